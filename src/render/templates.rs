//! The render templates, through the shared [`crate::templates`], with
//! render's error type.

pub use crate::templates::fastd_string;
use serde::Serialize;

/// Renders a template with a context.
pub fn render<S: Serialize>(name: &str, context: S) -> Result<String, super::RenderError> {
    crate::templates::render(name, context).map_err(|e| super::invalid(e.to_string()))
}
