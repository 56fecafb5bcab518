//! A bounded pool of attached Secure9P sessions for telemetry reads: a dashboard polling many
//! files reuses a few sessions instead of attaching for every read.

use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

use secure9p::codec::Limits;

use crate::error::ClientError;
use crate::ninep::NineClient;
use crate::options::Timeouts;

/// Who the pool's sessions attach as, and how many may exist.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    pub addr: SocketAddr,
    pub role: String,
    pub subject: String,
    pub ticket: String,
    pub timeouts: Timeouts,
    /// Sessions open at once, lent or idle.
    pub max_sessions: usize,
}

/// Attached sessions, lent out one caller at a time.
pub struct NinePool {
    config: PoolConfig,
    state: Mutex<PoolState>,
}

struct PoolState {
    idle: Vec<NineClient>,
    /// Sessions open, lent or idle.
    open: usize,
}

impl NinePool {
    pub fn new(config: PoolConfig) -> Self {
        Self {
            config,
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
            }),
        }
    }

    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    /// Sessions open (lent or idle).
    pub fn open_sessions(&self) -> usize {
        self.lock().open
    }

    /// Sessions waiting to be lent.
    pub fn idle_sessions(&self) -> usize {
        self.lock().idle.len()
    }

    /// Lends an idle session, or attaches a new one while under `max_sessions`. At the limit
    /// this fails at once with `Local(Busy)`; waiting is the caller's choice.
    pub fn get(&self) -> Result<PooledSession<'_>, ClientError> {
        {
            let mut state = self.lock();
            if let Some(client) = state.idle.pop() {
                return Ok(PooledSession {
                    pool: self,
                    client: Some(client),
                });
            }
            if state.open >= self.config.max_sessions {
                return Err(ClientError::Local(secure9p::Error::Busy));
            }
            state.open += 1;
        }
        // Attach outside the lock so other callers keep using idle sessions meanwhile.
        match self.attach() {
            Ok(client) => Ok(PooledSession {
                pool: self,
                client: Some(client),
            }),
            Err(e) => {
                self.lock().open -= 1;
                Err(e)
            }
        }
    }

    /// Runs `op` on a lent session.
    pub fn with<T>(
        &self,
        op: impl FnOnce(&mut NineClient) -> Result<T, ClientError>,
    ) -> Result<T, ClientError> {
        let mut session = self.get()?;
        op(&mut session)
    }

    /// Closes every idle session (lent ones close when they come back unusable).
    pub fn clear(&self) {
        let mut state = self.lock();
        let n = state.idle.len();
        state.idle.clear();
        state.open -= n;
    }

    fn attach(&self) -> Result<NineClient, ClientError> {
        let c = &self.config;
        let mut client = NineClient::connect(c.addr, Limits::default(), c.timeouts)?;
        client.attach(&c.role, &c.subject, &c.ticket)?;
        Ok(client)
    }

    fn give_back(&self, client: NineClient) {
        let mut state = self.lock();
        if client.is_usable() {
            state.idle.push(client);
        } else {
            state.open -= 1;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        // A panic while holding the lock leaves plain counters behind; they are still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A session on loan; it returns to the pool when dropped (or is discarded if it broke).
pub struct PooledSession<'a> {
    pool: &'a NinePool,
    client: Option<NineClient>,
}

impl Deref for PooledSession<'_> {
    type Target = NineClient;
    fn deref(&self) -> &NineClient {
        self.client
            .as_ref()
            .expect("a lent session holds its client until dropped")
    }
}

impl DerefMut for PooledSession<'_> {
    fn deref_mut(&mut self) -> &mut NineClient {
        self.client
            .as_mut()
            .expect("a lent session holds its client until dropped")
    }
}

impl Drop for PooledSession<'_> {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            self.pool.give_back(client);
        }
    }
}
