//! JSMS traceable disclosures (PRODUCT §3.2, issue 17): the movement brief rendered
//! differently for each recipient — in its wording, its formats and in the facts the movement
//! rules declare operationally equivalent — and the leak tracer that names every recipient
//! whose copy explains a leaked text or a set of facts, with a rigorous bound on naming an
//! innocent. No IO: the server stores the codewords and the movement key and records each
//! disclosure in the audit log. Design note: `DESIGN.md`.

pub mod brief;
pub mod canon;
pub mod code;
pub mod corpus;
pub mod detect;
pub mod doc;
pub mod stats;
pub mod trace;

pub use brief::{BriefContent, BriefLeg, CODE_NAMES, FactRules, RulesError, brief, brief_with};
pub use code::{CodeParams, Codeword, Kind, MovementKey};
pub use doc::{Audience, Disclosure, Document, Received, Recipient};
pub use trace::{
    ALPHA, Candidate, Evidence, FactError, Finding, Known, Observation, StatedFact, Trace, TraceOptions, Tracer,
};
