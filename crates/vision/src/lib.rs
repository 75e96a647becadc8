//! posbon's hot path, minus I/O: frames in, events out.
//!
//! Data flows one way: [`frame::Frame`] → [`motion`] gate → a [`detect::Detector`] (backends live
//! in the `infer` crate) → [`tracker`] → [`rules`] → [`event::Event`]s, with [`redact`] applied to
//! every image that leaves the pipeline. Nothing here touches the network, a database or a clock
//! of its own: time comes in with each frame.
#![forbid(unsafe_code)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod clock;
pub mod config;
pub mod detect;
pub mod event;
pub mod frame;
pub mod geom;
pub mod model;
pub mod mot;
pub mod motion;
pub mod nms;
pub mod preprocess;
pub mod redact;
pub mod rules;
pub mod tiles;
pub mod tracker;
