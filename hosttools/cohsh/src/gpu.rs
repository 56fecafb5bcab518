//! `cohsh gpu list|lease|release|status`: GPU leases (docs/interfaces.md §8.4) as ordinary
//! console commands, so they work over either transport and are audited like any other.

use clap::{Args, Subcommand};

use crate::cli::ConnArgs;

#[derive(Debug, Args)]
pub struct GpuArgs {
    #[command(flatten)]
    pub conn: ConnArgs,
    #[command(subcommand)]
    pub op: GpuOp,
}

#[derive(Debug, Subcommand)]
pub enum GpuOp {
    /// The GPUs, the lease summary and the live leases.
    List,
    /// Ask for a lease: on `--gpu`, or on any GPU that fits when it is left out.
    Lease {
        /// The gpu worker the lease is for (the Queen speaks for any worker).
        #[arg(long)]
        worker: String,
        #[arg(long)]
        gpu: Option<String>,
        #[arg(long)]
        mem_mb: u32,
        #[arg(long, default_value_t = 1)]
        streams: u32,
        #[arg(long)]
        ttl_s: u32,
        #[arg(long, default_value_t = 0)]
        priority: u8,
        /// Queue the request for the scheduler instead of asking now (no GPU may be named).
        #[arg(long)]
        queue: bool,
    },
    /// End a lease.
    Release { lease: u64 },
    /// One GPU's facts and lease, or the lease and queue summaries without one.
    Status { gpu: Option<String> },
}

/// The console commands one `gpu` operation runs, in order.
pub fn commands(op: &GpuOp) -> Vec<String> {
    match op {
        GpuOp::List => vec![
            "ls /gpu".into(),
            "cat /proc/lease/summary".into(),
            "cat /proc/lease/active".into(),
        ],
        GpuOp::Lease {
            worker,
            gpu,
            mem_mb,
            streams,
            ttl_s,
            priority,
            queue,
        } => {
            let gpu = gpu
                .as_ref()
                .map_or(String::new(), |g| format!(r#""gpu":"{g}","#));
            let want = format!(
                r#"{{{gpu}"worker":"{worker}","mem_mb":{mem_mb},"streams":{streams},"ttl_s":{ttl_s},"priority":{priority}}}"#
            );
            let (file, verb) = if *queue {
                ("/queen/schedule/ctl", "enqueue")
            } else {
                ("/queen/lease/ctl", "grant")
            };
            // The reply (`lease id=.. gpu=..`, `queued req=..`) is read back from the file.
            vec![
                format!(r#"echo {file} {{"{verb}":{want}}}"#),
                format!("cat {file}"),
            ]
        }
        GpuOp::Release { lease } => vec![
            format!(r#"echo /queen/lease/ctl {{"release":{{"lease":{lease}}}}}"#),
            "cat /queen/lease/ctl".into(),
        ],
        GpuOp::Status { gpu: Some(g) } => {
            vec![format!("cat /gpu/{g}/info"), format!("cat /gpu/{g}/lease")]
        }
        GpuOp::Status { gpu: None } => vec![
            "cat /proc/lease/summary".into(),
            "cat /proc/schedule/summary".into(),
            "cat /proc/lease/preemptions".into(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_become_console_commands() {
        let lease = GpuOp::Lease {
            worker: "w0001".into(),
            gpu: Some("g0".into()),
            mem_mb: 4096,
            streams: 1,
            ttl_s: 60,
            priority: 2,
            queue: false,
        };
        assert_eq!(
            commands(&lease),
            [
                r#"echo /queen/lease/ctl {"grant":{"gpu":"g0","worker":"w0001","mem_mb":4096,"streams":1,"ttl_s":60,"priority":2}}"#,
                "cat /queen/lease/ctl"
            ]
        );
        let queued = GpuOp::Lease {
            worker: "w0002".into(),
            gpu: None,
            mem_mb: 1,
            streams: 1,
            ttl_s: 1,
            priority: 0,
            queue: true,
        };
        assert!(commands(&queued)[0]
            .starts_with(r#"echo /queen/schedule/ctl {"enqueue":{"worker":"w0002""#));
        assert_eq!(
            commands(&GpuOp::Release { lease: 7 })[0],
            r#"echo /queen/lease/ctl {"release":{"lease":7}}"#
        );
        for op in [
            GpuOp::List,
            GpuOp::Status { gpu: None },
            GpuOp::Status {
                gpu: Some("g1".into()),
            },
        ] {
            for c in commands(&op) {
                cohscript::parse_command(&c).unwrap_or_else(|e| panic!("{c}: {e}"));
            }
        }
    }
}
