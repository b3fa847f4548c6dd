//! The category tree: public listing (depth first, or one parent's children) and lookups, admin
//! writes serialised by one ledger lock (the tree is small and a move rewrites a whole subtree).

pub mod store;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use http::{HeaderMap, StatusCode, header};
use mongodb::bson::doc;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use storefront_kit::{Admin, FieldError, Json, Path, Query};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::changes::{self, Entity};
use crate::error::{Error, is_unique_violation};
use crate::ids::{CategoryId, IfMatch, Version, validate_slug};
use crate::ledger::{self, Tx};
use storefront_kit::page::{self, Page};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub parent_id: Option<String>,
    /// Ancestor ids, root first.
    pub path: Vec<String>,
    /// Order among siblings (smaller first).
    pub position: i32,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CategoryInput {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub position: i32,
}

impl CategoryInput {
    fn validate(&self) -> Result<Option<CategoryId>, Error> {
        let mut errors = Vec::new();
        if let Err(message) = validate_slug(&self.slug) {
            errors.push(FieldError::new("slug", message));
        }
        let name = self.name.trim().chars().count();
        if !(1..=100).contains(&name) {
            errors.push(FieldError::new(
                "name",
                "must be between 1 and 100 characters long",
            ));
        }
        if self.description.chars().count() > 2000 {
            errors.push(FieldError::new(
                "description",
                "must be at most 2000 characters long",
            ));
        }
        if !(0..=99_999).contains(&self.position) {
            errors.push(FieldError::new("position", "must be between 0 and 99999"));
        }
        let parent = match self.parent_id.as_deref().map(CategoryId::parse).transpose() {
            Ok(parent) => parent,
            Err(_) => {
                errors.push(FieldError::new("parentId", "is not a category id"));
                None
            }
        };
        if errors.is_empty() {
            Ok(parent)
        } else {
            Err(Error::Invalid(errors))
        }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/catalog/categories",
            get(list_categories).post(create_category),
        )
        .route(
            "/api/catalog/categories/{key}",
            get(get_category)
                .put(update_category)
                .delete(delete_category),
        )
}

fn versioned(status: StatusCode, category: Category) -> Response {
    let etag = Version(category.version).etag();
    let mut response = (status, Json(category)).into_response();
    if let Ok(value) = etag.parse() {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only the direct children of this category id.
    pub parent: Option<String>,
    pub cursor: Option<String>,
    /// 1–100, default 20.
    pub limit: Option<u32>,
}

/// The tree, depth first, siblings by position.
#[utoipa::path(get, path = "/api/catalog/categories", params(ListParams), tag = "categories",
    responses((status = 200, body = inline(Page<Category>))))]
pub async fn list_categories(
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> Result<Json<Page<Category>>, Error> {
    let limit = page::limit(params.limit)?;
    let parent = params
        .parent
        .as_deref()
        .map(|p| CategoryId::parse(p).map_err(|_| Error::invalid("parent", "is not a category id")))
        .transpose()?;
    let after = params
        .cursor
        .as_deref()
        .map(page::decode_cursor::<String>)
        .transpose()?;
    let (items, next) = store::list(
        &state.documents,
        parent.as_ref().map(CategoryId::as_str),
        after.as_deref(),
        limit,
    )
    .await?;
    Ok(Json(Page {
        items,
        next_cursor: next.map(|n| page::encode_cursor(&n)),
    }))
}

/// A category by id or slug.
#[utoipa::path(get, path = "/api/catalog/categories/{key}", tag = "categories",
    responses((status = 200, body = Category), (status = 404, body = storefront_kit::Problem)))]
pub async fn get_category(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Response, Error> {
    let (category, _) = store::find(&state.documents, &key)
        .await?
        .ok_or_else(|| Error::not_found(format!("No category {key:?}.")))?;
    Ok(versioned(StatusCode::OK, category))
}

#[utoipa::path(post, path = "/api/catalog/categories", request_body = CategoryInput, tag = "categories",
    responses((status = 201, body = Category), (status = 409, body = storefront_kit::Problem),
        (status = 422, body = storefront_kit::Problem)), security(("bearer" = [])))]
pub async fn create_category(
    State(state): State<AppState>,
    _admin: Admin,
    Json(input): Json<CategoryInput>,
) -> Result<Response, Error> {
    let category = create(&state, CategoryId::generate(), input, Utc::now()).await?;
    let location = format!("/api/catalog/categories/{}", category.id);
    let mut response = versioned(StatusCode::CREATED, category);
    if let Ok(value) = location.parse() {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

#[utoipa::path(put, path = "/api/catalog/categories/{key}", request_body = CategoryInput, tag = "categories",
    params(("If-Match" = Option<String>, Header, description = "The ETag of the version being replaced")),
    responses((status = 200, body = Category), (status = 412, body = storefront_kit::Problem)),
    security(("bearer" = [])))]
pub async fn update_category(
    State(state): State<AppState>,
    _admin: Admin,
    Path(key): Path<String>,
    headers: HeaderMap,
    Json(input): Json<CategoryInput>,
) -> Result<Response, Error> {
    let id = CategoryId::parse(&key)?;
    let condition = IfMatch::from_headers(&headers)?;
    let category = update(&state, &id, input, condition.as_ref()).await?;
    Ok(versioned(StatusCode::OK, category))
}

/// Removes a leaf category that no product names.
#[utoipa::path(delete, path = "/api/catalog/categories/{key}", tag = "categories",
    responses((status = 204), (status = 409, body = storefront_kit::Problem)), security(("bearer" = [])))]
pub async fn delete_category(
    State(state): State<AppState>,
    _admin: Admin,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, Error> {
    let id = CategoryId::parse(&key)?;
    let condition = IfMatch::from_headers(&headers)?;
    let mut tx = state.ledger.begin().await?;
    ledger::lock_category_tree(&mut tx).await?;
    let version = locked_version(&mut tx, &id).await?;
    IfMatch::check(condition.as_ref(), version)?;
    let children: i64 = sqlx::query_scalar("SELECT count(*) FROM categories WHERE parent_id = $1")
        .bind(id.as_str())
        .fetch_one(&mut *tx)
        .await?;
    if children > 0 {
        return Err(Error::conflict(
            "The category has subcategories; move or delete them first.",
        ));
    }
    let used = crate::products::store::collection(&state.documents)
        .find_one(doc! { "categoryIds": id.as_str() })
        .await?;
    if used.is_some() {
        return Err(Error::conflict(
            "Products are in this category; move them first.",
        ));
    }
    sqlx::query("DELETE FROM categories WHERE id = $1")
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
    changes::append(
        &mut tx,
        Entity::Category,
        id.as_str(),
        version.next()?,
        None,
    )
    .await?;
    store::delete(&state.documents, &id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn locked_version(tx: &mut Tx, id: &CategoryId) -> Result<Version, Error> {
    let row = sqlx::query("SELECT version FROM categories WHERE id = $1 FOR UPDATE")
        .bind(id.as_str())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| Error::not_found(format!("No category {id}.")))?;
    Ok(Version(row.get("version")))
}

/// The parent's document and sort key, which must exist.
async fn parent_of(
    state: &AppState,
    parent: Option<&CategoryId>,
) -> Result<Option<(Category, String)>, Error> {
    match parent {
        None => Ok(None),
        Some(id) => store::get(&state.documents, id)
            .await?
            .map(Some)
            .ok_or_else(|| Error::invalid("parentId", "no such category")),
    }
}

fn slug_taken(slug: &str) -> Error {
    Error::Conflict {
        detail: format!("Another category already has the slug {slug:?}."),
        errors: vec![FieldError::new("slug", "is taken")],
    }
}

/// Creates a category with the given id (the seed uses fixed ids).
pub async fn create(
    state: &AppState,
    id: CategoryId,
    input: CategoryInput,
    now: DateTime<Utc>,
) -> Result<Category, Error> {
    let parent_id = input.validate()?;
    let mut tx = state.ledger.begin().await?;
    ledger::lock_category_tree(&mut tx).await?;
    let parent = parent_of(state, parent_id.as_ref()).await?;
    let inserted =
        sqlx::query("INSERT INTO categories (id, slug, parent_id, version) VALUES ($1, $2, $3, 1)")
            .bind(id.as_str())
            .bind(&input.slug)
            .bind(parent_id.as_ref().map(CategoryId::as_str))
            .execute(&mut *tx)
            .await;
    match inserted {
        Err(e) if is_unique_violation(&e, "categories_slug_key") => {
            return Err(slug_taken(&input.slug));
        }
        Err(e) if is_unique_violation(&e, "categories_pkey") => {
            return Err(Error::conflict(format!("Category {id} already exists.")));
        }
        other => other?,
    };
    let path = match &parent {
        Some((p, _)) => p.path.iter().cloned().chain([p.id.clone()]).collect(),
        None => Vec::new(),
    };
    let category = Category {
        id: id.to_string(),
        slug: input.slug,
        name: input.name.trim().to_owned(),
        description: input.description,
        parent_id: parent_id.map(|p| p.to_string()),
        path,
        position: input.position,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let key = store::sort_key(
        parent.as_ref().map(|(_, k)| k.as_str()),
        category.position,
        &category.id,
    );
    record(&mut tx, &category).await?;
    store::replace(&state.documents, &category, &key).await?;
    tx.commit().await?;
    Ok(category)
}

/// Replaces a category; moving it (new parent or position) rewrites its whole subtree.
pub async fn update(
    state: &AppState,
    id: &CategoryId,
    input: CategoryInput,
    condition: Option<&IfMatch>,
) -> Result<Category, Error> {
    let parent_id = input.validate()?;
    let mut tx = state.ledger.begin().await?;
    ledger::lock_category_tree(&mut tx).await?;
    let version = locked_version(&mut tx, id).await?;
    IfMatch::check(condition, version)?;
    let (previous, previous_key) = store::get(&state.documents, id)
        .await?
        .ok_or_else(|| Error::not_found(format!("No category {id}.")))?;
    let parent = parent_of(state, parent_id.as_ref()).await?;
    if let Some((p, _)) = &parent
        && (p.id == id.as_str() || p.path.iter().any(|a| a == id.as_str()))
    {
        return Err(Error::invalid(
            "parentId",
            "would put the category inside itself",
        ));
    }
    let version = version.next()?;
    let updated = sqlx::query("UPDATE categories SET slug = $2, parent_id = $3, version = $4, updated_at = now() WHERE id = $1")
        .bind(id.as_str())
        .bind(&input.slug)
        .bind(parent_id.as_ref().map(CategoryId::as_str))
        .bind(version.0)
        .execute(&mut *tx)
        .await;
    match updated {
        Err(e) if is_unique_violation(&e, "categories_slug_key") => {
            return Err(slug_taken(&input.slug));
        }
        other => other?,
    };
    let path: Vec<String> = match &parent {
        Some((p, _)) => p.path.iter().cloned().chain([p.id.clone()]).collect(),
        None => Vec::new(),
    };
    let category = Category {
        id: id.to_string(),
        slug: input.slug,
        name: input.name.trim().to_owned(),
        description: input.description,
        parent_id: parent_id.map(|p| p.to_string()),
        path,
        position: input.position,
        version: version.0,
        created_at: previous.created_at,
        updated_at: Utc::now(),
    };
    let key = store::sort_key(
        parent.as_ref().map(|(_, k)| k.as_str()),
        category.position,
        &category.id,
    );
    record(&mut tx, &category).await?;
    store::replace(&state.documents, &category, &key).await?;
    if key != previous_key {
        move_subtree(state, &mut tx, &category, &key).await?;
    }
    tx.commit().await?;
    Ok(category)
}

/// Recomputes the path and sort key of every descendant of a moved category, parents first.
async fn move_subtree(
    state: &AppState,
    tx: &mut Tx,
    root: &Category,
    root_key: &str,
) -> Result<(), Error> {
    let mut placed: std::collections::HashMap<String, (Vec<String>, String)> =
        std::collections::HashMap::new();
    placed.insert(root.id.clone(), (root.path.clone(), root_key.to_owned()));
    let mut below = store::descendants(&state.documents, &root.id).await?;
    below.sort_by_key(|(c, _)| c.path.len());
    for (mut category, _) in below {
        let Some((parent_path, parent_key)) = category
            .parent_id
            .as_ref()
            .and_then(|p| placed.get(p))
            .cloned()
        else {
            continue;
        };
        category.path = parent_path;
        if let Some(parent) = &category.parent_id {
            category.path.push(parent.clone());
        }
        let key = store::sort_key(Some(&parent_key), category.position, &category.id);
        let version: i64 = sqlx::query_scalar(
            "UPDATE categories SET version = version + 1, updated_at = now() WHERE id = $1 RETURNING version",
        )
        .bind(&category.id)
        .fetch_one(&mut **tx)
        .await?;
        category.version = version;
        category.updated_at = Utc::now();
        record(tx, &category).await?;
        store::replace(&state.documents, &category, &key).await?;
        placed.insert(category.id.clone(), (category.path.clone(), key));
    }
    Ok(())
}

async fn record(tx: &mut Tx, category: &Category) -> Result<(), Error> {
    let json = serde_json::to_value(category)
        .map_err(|e| Error::Internal(format!("category to JSON: {e}")))?;
    changes::append(
        tx,
        Entity::Category,
        &category.id,
        Version(category.version),
        Some(&json),
    )
    .await?;
    Ok(())
}
