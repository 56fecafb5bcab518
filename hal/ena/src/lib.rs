//! The AWS Elastic Network Adapter driver.
#![no_std]
