//! JSMS domain: the types and rules of the Joint Security Management System, with no IO.
//!
//! Every value that crosses into the system is parsed into one of these types at the edge
//! (`Coordinate::new`, `Username::parse`, …), so an invalid value cannot exist past it.
//! Storage, HTTP and clocks live in other crates; this one only knows the rules.

pub mod access;
pub mod error;
pub mod geo;
pub mod ids;
pub mod incident;
pub mod intel;
pub mod movement;
pub mod registry;
pub mod text;
pub mod tracking;
pub mod user;
pub mod zone;

pub use error::ValidationError;
