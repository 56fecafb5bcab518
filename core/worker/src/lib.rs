//! Sans-IO worker agents: the client state machines that attach with a ticket and append telemetry.
#![no_std]
