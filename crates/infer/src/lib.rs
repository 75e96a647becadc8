//! Detector backends.
