//! The `:` command line: parsing operator commands into typed requests.

/// One parsed `:` command.
#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    Quit,
    Help,
    Filter(String),
    ClearFilter,
    Goto(String),
    Compact,
    Pause,
    Play,
    Step(u32),
    /// Absolute seek in milliseconds.
    Seek(u64),
    /// Relative seek in milliseconds.
    SeekBy(i64),
    Speed(f64),
    /// Writes to the hive; refused under `--readonly`.
    Write {
        path: String,
        line: String,
    },
}

impl Cmd {
    /// True for commands that change the hive.
    pub fn mutates(&self) -> bool {
        matches!(self, Cmd::Write { .. })
    }
}

pub const QUEEN_CTL: &str = "/queen/ctl";
pub const LIFECYCLE_CTL: &str = "/queen/lifecycle/ctl";

/// Parses one command line (without the leading `:`).
pub fn parse(line: &str) -> Result<Cmd, String> {
    let line = line.trim();
    let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
    let rest = rest.trim();
    let cmd = match verb {
        "q" | "quit" | "exit" => Cmd::Quit,
        "help" | "h" | "?" => Cmd::Help,
        "filter" | "f" if rest.is_empty() => Cmd::ClearFilter,
        "filter" | "f" => Cmd::Filter(rest.to_string()),
        "clear" | "nofilter" => Cmd::ClearFilter,
        "goto" | "g" | "select" if !rest.is_empty() => Cmd::Goto(rest.to_string()),
        "compact" | "z" => Cmd::Compact,
        "pause" => Cmd::Pause,
        "play" | "resume-replay" => Cmd::Play,
        "step" | "s" => Cmd::Step(number(rest, 1.0)? as u32),
        "seek" => seek(rest)?,
        "speed" => Cmd::Speed(number(rest.trim_start_matches('x'), 1.0)?),
        "spawn" => spawn(rest)?,
        "kill" if !rest.is_empty() => Cmd::Write {
            path: QUEEN_CTL.to_string(),
            line: format!("{{\"kill\":\"{}\"}}", json_escape(rest)),
        },
        "revoke" => Cmd::Write {
            path: QUEEN_CTL.to_string(),
            line: cohscript::revoke_json(
                rest.parse::<u64>()
                    .map_err(|_| format!("revoke needs a ticket id (a number), not `{rest}`"))?,
            ),
        },
        "retire-key" => Cmd::Write {
            path: QUEEN_CTL.to_string(),
            line: cohscript::retire_key_json(
                rest.parse::<u8>()
                    .map_err(|_| format!("retire-key needs a key id (0..=255), not `{rest}`"))?,
            ),
        },
        "ctl" if !rest.is_empty() => Cmd::Write {
            path: QUEEN_CTL.to_string(),
            line: rest.to_string(),
        },
        "cordon" | "drain" | "resume" | "quiesce" | "reset" => Cmd::Write {
            path: LIFECYCLE_CTL.to_string(),
            line: verb.to_string(),
        },
        "" => return Err(String::from("empty command")),
        other => return Err(format!("unknown command: {other} (try :help)")),
    };
    Ok(cmd)
}

fn number(text: &str, default: f64) -> Result<f64, String> {
    if text.is_empty() {
        return Ok(default);
    }
    match text.parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 => Ok(n),
        _ => Err(format!("not a number: {text}")),
    }
}

/// `seek 12.5` (absolute seconds), `seek +10` / `seek -10` (relative).
fn seek(rest: &str) -> Result<Cmd, String> {
    let secs = |t: &str| number(t, 0.0).map(|s| (s * 1000.0).round() as i64);
    if let Some(t) = rest.strip_prefix('+') {
        return Ok(Cmd::SeekBy(secs(t)?));
    }
    if let Some(t) = rest.strip_prefix('-') {
        return Ok(Cmd::SeekBy(-secs(t)?));
    }
    if rest.is_empty() {
        return Err(String::from("seek needs a time in seconds"));
    }
    Ok(Cmd::Seek(secs(rest)? as u64))
}

/// `spawn heartbeat [count]` → one `/queen/ctl` JSON line.
fn spawn(rest: &str) -> Result<Cmd, String> {
    let mut words = rest.split_whitespace();
    let kind = words.next().unwrap_or("heartbeat");
    let count = match words.next() {
        Some(n) => n
            .trim_start_matches("count=")
            .parse::<u32>()
            .map_err(|_| format!("not a count: {n}"))?,
        None => 1,
    };
    Ok(Cmd::Write {
        path: QUEEN_CTL.to_string(),
        line: format!("{{\"spawn\":\"{}\",\"count\":{count}}}", json_escape(kind)),
    })
}

fn json_escape(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands() {
        assert_eq!(parse("q"), Ok(Cmd::Quit));
        assert_eq!(parse("seek 12.5"), Ok(Cmd::Seek(12_500)));
        assert_eq!(parse("seek -3"), Ok(Cmd::SeekBy(-3000)));
        assert_eq!(parse("speed x8"), Ok(Cmd::Speed(8.0)));
        assert_eq!(parse("step"), Ok(Cmd::Step(1)));
        assert_eq!(parse("filter state:on"), Ok(Cmd::Filter("state:on".into())));
        assert_eq!(
            parse("spawn heartbeat 1000"),
            Ok(Cmd::Write {
                path: QUEEN_CTL.into(),
                line: "{\"spawn\":\"heartbeat\",\"count\":1000}".into()
            })
        );
        assert_eq!(
            parse("kill w\"1"),
            Ok(Cmd::Write {
                path: QUEEN_CTL.into(),
                line: "{\"kill\":\"w\\\"1\"}".into()
            })
        );
        assert!(parse("drain").unwrap().mutates());
        assert!(!parse("pause").unwrap().mutates());
    }

    #[test]
    fn refuses_nonsense() {
        assert!(parse("").is_err());
        assert!(parse("frobnicate").is_err());
        assert!(parse("seek").is_err());
        assert!(parse("speed fast").is_err());
        assert!(parse("spawn heartbeat many").is_err());
        assert!(parse("kill").is_err());
        assert_eq!(
            parse("revoke 7"),
            Ok(Cmd::Write {
                path: QUEEN_CTL.into(),
                line: r#"{"revoke":{"ticket":7}}"#.into()
            })
        );
        assert!(parse("revoke w0001").is_err());
        assert!(parse("retire-key 999").is_err());
    }
}
