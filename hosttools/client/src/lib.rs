//! Host-side clients for a hive: Secure9P and the console protocol.
