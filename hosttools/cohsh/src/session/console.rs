//! The console transport: every command is its console line (docs/interfaces.md §2).

use client::{ClientError, ConsoleClient, Response};
use cohscript::Command;

use super::Target;

pub struct ConsoleSession {
    client: ConsoleClient,
}

impl ConsoleSession {
    /// Connects, presents the token and attaches as the target's role.
    pub fn open(target: &Target) -> Result<Self, ClientError> {
        let mut client = ConsoleClient::connect(target.addr(), target.timeouts)?;
        client.auth(target.token.as_deref().unwrap_or(""))?;
        client.attach(&target.role, target.ticket.as_deref())?;
        Ok(Self { client })
    }

    pub fn run(&mut self, command: &Command) -> Result<Response, ClientError> {
        self.client.request(&command.console_line())
    }

    pub fn tail(
        &mut self,
        path: &str,
        cursor: Option<u64>,
    ) -> Result<(Response, u64), ClientError> {
        let line = match cursor {
            Some(c) => format!("TAIL {path} {c}"),
            None => format!("TAIL {path}"),
        };
        let response = self.client.request(&line)?;
        let next = response
            .reply
            .field("cursor")
            .and_then(|c| c.parse().ok())
            .or(cursor)
            .unwrap_or(0);
        Ok((response, next))
    }

    pub fn is_usable(&self) -> bool {
        self.client.is_usable()
    }
}
