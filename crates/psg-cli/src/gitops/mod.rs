//! Groups as code: a strict desired-state file, names resolved in the
//! target tenant, a pure plan, saved plans, and the executor that carries out
//! exactly the reviewed changes.
//!
//! One pass down the modules: [`desired`] (with [`yaml`]) reads the file,
//! [`resolve`] turns portable names into ids, [`tenant`] reads and writes
//! groups through `psg_ext`, [`plan`] computes the changes, [`planfile`] saves
//! and checks them, [`execute`] applies them; [`yaml_out`] writes YAML that
//! YAML 1.1 tools read back unchanged; [`schema`] is the file's JSON Schema for editors.

pub mod desired;
pub mod execute;
pub mod notes;
pub mod plan;
pub mod planfile;
pub mod resolve;
pub mod schema;
pub mod snapshot;
pub mod tenant;
pub mod yaml;
pub mod yaml_out;
