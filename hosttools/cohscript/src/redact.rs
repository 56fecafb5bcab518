//! Keeping tickets out of what is shown and kept: a command line with a ticket (`attach ROLE
//! TICKET`) is echoed by script mode, printed in JSON output and saved in the shell history
//! with the ticket replaced, so a transcript or a history file never hands out authority.

/// What a ticket is replaced with.
pub const REDACTED: &str = "<ticket>";

/// `text` with any ticket replaced by `<ticket>`; other commands are returned unchanged.
pub fn redact(text: &str) -> String {
    let mut words = text.split_whitespace();
    let is_attach = words
        .next()
        .is_some_and(|verb| verb.eq_ignore_ascii_case("attach"));
    match (is_attach, words.next(), words.next()) {
        (true, Some(role), Some(_ticket)) => {
            let verb = text.split_whitespace().next().unwrap_or("attach");
            format!("{verb} {role} {REDACTED}")
        }
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_are_replaced_and_nothing_else() {
        assert_eq!(redact("attach queen v1.abc.def"), "attach queen <ticket>");
        assert_eq!(redact("  ATTACH  worker  t0k "), "ATTACH worker <ticket>");
        assert_eq!(redact("attach queen"), "attach queen");
        assert_eq!(redact("ls /proc"), "ls /proc");
        assert_eq!(redact("echo attach me > /x"), "echo attach me > /x");
    }
}
