//! JSMS road network: import of OpenStreetMap PBF extracts into a compact routable graph
//! ([`import`], with the car rules of [`osm`]), the graph itself with its binary form
//! ([`graph`]) and its turn graph — restrictions, barriers, access, turn costs ([`turns`]),
//! snapping of coordinates onto road segments ([`snap`]), edge risk ([`risk`]), the
//! accelerated exact query — customizable contraction hierarchies over the turn graph
//! ([`order`], [`cch`]) — with alternatives ([`alternatives`]), the [`router`] that answers
//! requests between snapped points, and plain Dijkstra ([`dijkstra`]) and ALT ([`alt`]), the
//! references it is tested and measured against.
//!
//! The graph and the algorithms take values and do no IO; `import` reads a file it is given.
//! This crate knows nothing of users, movements or zones.

// PANIC SAFETY: graph algorithms index arrays whose bounds hold by construction (node ids
// come from the graph, which `Graph::validate` checks when it is built or loaded); indexing
// is the clear way to write them. This crate handles no secrets or protected data.
#![allow(clippy::indexing_slicing)]

pub mod alt;
pub mod alternatives;
pub mod cch;
pub mod dijkstra;
pub mod graph;
pub mod import;
pub mod order;
pub mod osm;
pub mod risk;
pub mod router;
pub mod snap;
pub mod turns;

pub use graph::{Graph, NodeId};
