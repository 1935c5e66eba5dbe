//! The labs the harness knows, in the order reports show them.

mod matmul;

use crate::lab::Lab;

/// Every lab.
pub fn all() -> Vec<&'static dyn Lab> {
    vec![&matmul::Matmul]
}

/// A lab by name, or an error that lists the known ones.
pub fn find(name: &str) -> Result<&'static dyn Lab, String> {
    all().into_iter().find(|lab| lab.name() == name).ok_or_else(|| {
        let known: Vec<_> = all().iter().map(|lab| lab.name()).collect();
        format!("unknown lab '{name}'; known labs: {}", known.join(", "))
    })
}
