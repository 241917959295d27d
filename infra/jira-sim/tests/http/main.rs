//! HTTP-level tests of the simulator: every test starts its own simulator on 127.0.0.1:0 and
//! talks to it with a real HTTP client, as sei-jira's Jira client will.

mod admin;
mod auth;
mod common;
mod controls;
mod datacenter;
mod search;
mod timezones;
