//! Bounded, trimmed text fields.

use crate::ValidationError;

/// Trims `value` and checks it is non-empty and at most `max` characters, with no control
/// characters. `field` names it in the error.
pub fn required(field: &str, value: &str, max: usize) -> Result<String, ValidationError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    optional(field, trimmed, max).map(|v| v.unwrap_or_default())
}

/// Like [`required`] but an empty value becomes `None`.
pub fn optional(field: &str, value: &str, max: usize) -> Result<Option<String>, ValidationError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    let len = trimmed.chars().count();
    if len > max {
        return Err(ValidationError::new(
            field,
            format!("is {len} characters long; at most {max} are allowed"),
        ));
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(ValidationError::new(field, "must not contain control characters"));
    }
    Ok(Some(trimmed.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_bounds() {
        assert_eq!(required("/name", "  Ada  ", 10), Ok("Ada".to_owned()));
        assert_eq!(
            required("/name", "   ", 10).map_err(|e| e.field),
            Err("/name".to_owned())
        );
        assert!(required("/name", "abcdefghijk", 10).is_err());
        assert!(required("/name", "a\u{0}b", 10).is_err());
        assert_eq!(optional("/notes", " ", 10), Ok(None));
    }
}
