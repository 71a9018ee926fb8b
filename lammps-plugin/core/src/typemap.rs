//! `pair_coeff * * El1 El2 ...`: LAMMPS atom types → model type indices.

use crate::error::DprsError;

/// Model type index for each LAMMPS type; index 0 is unused because LAMMPS
/// types start at 1. `None` marks a type mapped to NULL: those atoms neither
/// get an energy nor appear as neighbours.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeMap {
    model_type: Vec<Option<usize>>,
}

impl TypeMap {
    /// `args` are all pair_coeff words, starting with the two `*`.
    pub fn from_pair_coeff<S: AsRef<str>>(
        args: &[S],
        ntypes: usize,
        model_types: &[String],
    ) -> Result<TypeMap, DprsError> {
        let args: Vec<&str> = args.iter().map(|a| a.as_ref()).collect();
        let usage = format!(
            "usage: pair_coeff * * followed by one element per atom type ({ntypes} here), \
             each one of the model's type_map {model_types:?} or NULL"
        );
        if args.len() < 2 || args[0] != "*" || args[1] != "*" {
            return Err(DprsError::Coeff(format!(
                "the first two arguments must be '* *'; {usage}"
            )));
        }
        let names = &args[2..];
        if names.len() != ntypes {
            return Err(DprsError::Coeff(format!(
                "{} element names given for {ntypes} atom types; {usage}",
                names.len()
            )));
        }
        let mut model_type = vec![None];
        for (t, name) in names.iter().enumerate() {
            if *name == "NULL" {
                model_type.push(None);
                continue;
            }
            let idx = model_types.iter().position(|m| m == name).ok_or_else(|| {
                DprsError::Coeff(format!(
                    "element '{name}' (atom type {}) is not in the model's type_map {model_types:?}; \
                     use one of those names, or NULL to leave the type out",
                    t + 1
                ))
            })?;
            model_type.push(Some(idx));
        }
        Ok(TypeMap { model_type })
    }

    /// Model type of a LAMMPS type, or `None` for NULL / out-of-range types.
    #[inline]
    pub fn model_type(&self, lammps_type: i32) -> Option<usize> {
        usize::try_from(lammps_type)
            .ok()
            .and_then(|t| self.model_type.get(t).copied().flatten())
    }

    pub fn ntypes(&self) -> usize {
        self.model_type.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types() -> Vec<String> {
        vec!["O".into(), "H".into()]
    }

    #[test]
    fn maps_names_and_null() {
        let m = TypeMap::from_pair_coeff(&["*", "*", "H", "NULL", "O"], 3, &types()).unwrap();
        assert_eq!(m.model_type(1), Some(1));
        assert_eq!(m.model_type(2), None);
        assert_eq!(m.model_type(3), Some(0));
        assert_eq!(m.model_type(4), None);
        assert_eq!(m.ntypes(), 3);
    }

    #[test]
    fn errors_name_the_problem() {
        let e = TypeMap::from_pair_coeff(&["*", "*", "O", "Ca"], 2, &types())
            .unwrap_err()
            .to_string();
        assert!(e.contains("'Ca'") && e.contains("type_map"), "{e}");
        let e = TypeMap::from_pair_coeff(&["*", "*", "O"], 2, &types())
            .unwrap_err()
            .to_string();
        assert!(e.contains("1 element names given for 2 atom types"), "{e}");
        let e = TypeMap::from_pair_coeff(&["1", "1", "O"], 1, &types())
            .unwrap_err()
            .to_string();
        assert!(e.contains("'* *'"), "{e}");
    }
}
