//! Boot-time lines on the serial console, each `cohesix: ...` and CRLF-terminated, written
//! straight to the UART so they work before and after the HAL exists.

/// Writes one `cohesix: <formatted>` line to the serial console.
macro_rules! say {
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let mut out = $crate::platform::early_console();
        let _ = out.write_str("cohesix: ");
        let _ = write!(out, $($arg)*);
        let _ = out.write_str("\r\n");
    }};
}

pub(crate) use say;
