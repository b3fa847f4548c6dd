//! Request bodies: the kit's JSON extractor plus `validator` rules, with field errors named as
//! the client sent them (camelCase), not as the Rust fields are called.

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use storefront_kit::{FieldError, Json, Problem};
use validator::Validate;

/// A JSON body that passed its validation rules; broken rules answer 422 with one entry per field.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidBody<T>(pub T);

impl<T, S> FromRequest<S> for ValidBody<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<T>::from_request(req, state).await?;
        value.validate().map_err(camel_case_problem)?;
        Ok(ValidBody(value))
    }
}

fn camel_case_problem(errors: validator::ValidationErrors) -> Problem {
    let mut fields: Vec<FieldError> = Problem::from(errors)
        .errors
        .into_iter()
        .map(|e| FieldError::new(camel_case(&e.field), e.message))
        .collect();
    fields.sort_by(|a, b| a.field.cmp(&b.field));
    Problem::validation(fields)
}

/// `postal_code` → `postalCode`; `lines[2].unit_price` → `lines[2].unitPrice`.
pub fn camel_case(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut upper = false;
    for c in path.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_field_paths_become_json_names() {
        assert_eq!(camel_case("postal_code"), "postalCode");
        assert_eq!(camel_case("email"), "email");
        assert_eq!(camel_case("lines[2].unit_price"), "lines[2].unitPrice");
    }
}
