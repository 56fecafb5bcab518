//! Host-side clients for a hive: Secure9P and the console protocol, over TCP with deadlines.
//! Errors are typed and keep the hive's `reason=`/errno; nothing retries unless the caller
//! asks through `retry`, and `NinePool` shares attached sessions between telemetry readers.

pub mod console;
pub mod creds;
pub mod error;
pub mod ninep;
pub mod options;
pub mod pool;
pub mod reply;
pub mod retry;
pub mod secret;

pub use console::ConsoleClient;
pub use error::{ClientError, Refusal};
pub use ninep::{NineClient, Tail};
pub use options::Timeouts;
pub use pool::{NinePool, PoolConfig, PooledSession};
pub use reply::{Reply, Response};
pub use retry::{retry, RetryPolicy};
/// The Secure9P limits a client offers at `Tversion`, and the error classes.
pub use secure9p::{codec::Limits, Error as ErrorClass};
