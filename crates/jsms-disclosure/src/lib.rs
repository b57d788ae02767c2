//! JSMS traceable disclosures (PRODUCT §3.2): the movement brief rendered differently for
//! each recipient ([`brief`]) and the leak tracer ([`trace`]). No IO: the server stores the
//! codewords and records each disclosure in the audit log. Design note: `DESIGN.md`.

pub mod brief;
pub mod corpus;
pub mod trace;

pub use brief::{BriefContent, BriefLeg, Codeword, Document, brief};
pub use trace::{Trace, trace};
