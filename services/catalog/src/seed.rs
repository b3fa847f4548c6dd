//! The demo catalog: 16 categories (4 departments of 3 subcategories each) and 240 products with
//! generated images, stock and prices. Deterministic (fixed ids, times and a seeded generator) and
//! idempotent (whatever already exists is left alone), so `cargo xtask up` may run it every time.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use futures::{StreamExt, TryStreamExt, stream};
use image::codecs::png::PngEncoder;
use image::{ImageEncoder, RgbImage};
use serde::Serialize;

use crate::AppState;
use crate::categories::{self, CategoryInput};
use crate::error::Error;
use crate::ids::{CategoryId, ProductId};
use crate::images;
use crate::money::{Currency, Money};
use crate::products::model::{ProductImage, ProductInput, ProductStatus, VariantInput};
use crate::products::write;

const DEPARTMENTS: [(&str, [&str; 3]); 4] = [
    ("Clothing", ["T-shirts", "Hoodies", "Trousers"]),
    ("Home", ["Kitchen", "Lighting", "Textiles"]),
    ("Outdoors", ["Camping", "Cycling", "Running"]),
    ("Books", ["Fiction", "Cooking", "Travel"]),
];
const PRODUCTS_PER_LEAF: usize = 20;
const PICTURES_PER_LEAF: usize = 2;
const BRANDS: [&str; 8] = [
    "Northwind",
    "Acme",
    "Fjord",
    "Lumen",
    "Kestrel",
    "Oakline",
    "Pebble",
    "Tundra",
];
const ADJECTIVES: [&str; 12] = [
    "Classic",
    "Everyday",
    "Organic",
    "Compact",
    "Deluxe",
    "Lightweight",
    "Vintage",
    "Urban",
    "Alpine",
    "Coastal",
    "Minimal",
    "Heritage",
];
const COLOURS: [&str; 6] = ["black", "white", "red", "blue", "green", "sand"];
const SIZES: [&str; 4] = ["S", "M", "L", "XL"];
/// 2025-01-01T00:00:00Z: the seed's notion of "when".
const EPOCH_MILLIS: u64 = 1_735_689_600_000;

/// What a seed run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedReport {
    pub categories_created: usize,
    pub products_created: usize,
    pub already_present: usize,
}

/// A small, fixed pseudo-random sequence (SplitMix64): same seed, same catalog.
struct Sequence(u64);

impl Sequence {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn entropy(&mut self) -> [u8; 10] {
        let a = self.next().to_le_bytes();
        let b = self.next().to_le_bytes();
        [a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], b[0], b[1]]
    }
}

fn slugify(text: &str) -> String {
    text.to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

fn at(offset_minutes: u64) -> DateTime<Utc> {
    let millis = EPOCH_MILLIS + offset_minutes * 60_000;
    Utc.timestamp_millis_opt(millis as i64)
        .single()
        .unwrap_or_else(Utc::now)
}

/// A product picture: a gradient in the department's hue with a few discs, as PNG.
pub fn picture(hue: u8, variation: u64, side: u32) -> Result<Vec<u8>, Error> {
    let base = [hue, hue.wrapping_mul(3).wrapping_add(80), 255 - hue];
    let discs: Vec<(i64, i64, i64)> = (0..3)
        .map(|i| {
            let v = variation.rotate_left(i * 17);
            (
                (v % u64::from(side)) as i64,
                ((v >> 16) % u64::from(side)) as i64,
                (side as i64 / 8) + ((v >> 32) % u64::from(side / 5).max(1)) as i64,
            )
        })
        .collect();
    let image = RgbImage::from_fn(side, side, |x, y| {
        let inside = discs.iter().any(|(cx, cy, r)| {
            let (dx, dy) = (i64::from(x) - cx, i64::from(y) - cy);
            dx * dx + dy * dy <= r * r
        });
        let shade = ((x + y) * 255 / (2 * side)) as u8;
        if inside {
            image::Rgb([255 - base[0] / 2, 255 - base[1] / 2, 255 - base[2] / 2])
        } else {
            image::Rgb([
                base[0].saturating_add(shade / 3),
                base[1].saturating_sub(shade / 4),
                base[2].saturating_add(shade / 5),
            ])
        }
    });
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(image.as_raw(), side, side, image::ExtendedColorType::Rgb8)
        .map_err(|e| Error::Internal(format!("seed image: {e}")))?;
    Ok(out)
}

async fn category_exists(state: &AppState, id: &CategoryId) -> Result<bool, Error> {
    Ok(
        sqlx::query_scalar::<_, i32>("SELECT 1 FROM categories WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&state.ledger)
            .await?
            .is_some(),
    )
}

async fn product_exists(state: &AppState, id: &ProductId) -> Result<bool, Error> {
    Ok(
        sqlx::query_scalar::<_, i32>("SELECT 1 FROM products WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&state.ledger)
            .await?
            .is_some(),
    )
}

const SEQUENCE_SEED: u64 = 0x5EED_CA7A_1060;

/// The id of the first department: the same in every seeded store.
pub fn first_category_id() -> CategoryId {
    CategoryId::deterministic(EPOCH_MILLIS, Sequence(SEQUENCE_SEED).entropy())
}

/// Loads the demo catalog into the state's stores.
pub async fn run(state: &AppState) -> Result<SeedReport, Error> {
    let mut report = SeedReport::default();
    let mut sequence = Sequence(SEQUENCE_SEED);
    let mut minute = 0_u64;
    let mut product_number = 0_usize;
    let mut planned = Vec::new();
    for (d, (department, leaves)) in DEPARTMENTS.iter().enumerate() {
        let hue = (d as u8).wrapping_mul(61).wrapping_add(20);
        let root = CategoryId::deterministic(EPOCH_MILLIS + minute, sequence.entropy());
        minute += 1;
        if category_exists(state, &root).await? {
            report.already_present += 1;
        } else {
            let input = CategoryInput {
                slug: slugify(department),
                name: (*department).to_owned(),
                description: format!("Everything in {department}."),
                parent_id: None,
                position: d as i32,
            };
            categories::create(state, root.clone(), input, at(minute)).await?;
            report.categories_created += 1;
        }
        for (l, leaf) in leaves.iter().enumerate() {
            let leaf_id = CategoryId::deterministic(EPOCH_MILLIS + minute, sequence.entropy());
            minute += 1;
            if category_exists(state, &leaf_id).await? {
                report.already_present += 1;
            } else {
                let input = CategoryInput {
                    slug: slugify(leaf),
                    name: (*leaf).to_owned(),
                    description: format!("{leaf} from our {department} department."),
                    parent_id: Some(root.to_string()),
                    position: l as i32,
                };
                categories::create(state, leaf_id.clone(), input, at(minute)).await?;
                report.categories_created += 1;
            }
            for n in 0..PRODUCTS_PER_LEAF {
                product_number += 1;
                let id = ProductId::deterministic(EPOCH_MILLIS + minute, sequence.entropy());
                minute += 1;
                let input = demo_product(&mut sequence, product_number, leaf, &root, &leaf_id);
                let picture = (hue.wrapping_add(l as u8 * 25), n % PICTURES_PER_LEAF);
                planned.push((id, input, at(minute), picture));
            }
        }
    }

    let mut missing = Vec::new();
    for plan in planned {
        if product_exists(state, &plan.0).await? {
            report.already_present += 1;
        } else {
            missing.push(plan);
        }
    }
    // Each picture is rendered and processed once, a few at a time (image ids are content addresses).
    let mut wanted: Vec<(u8, usize)> = missing.iter().map(|p| p.3).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let rendered: Vec<((u8, usize), ProductImage)> = stream::iter(wanted)
        .map(|(hue, slot)| async move {
            let bytes =
                tokio::task::spawn_blocking(move || picture(hue, slot as u64 * 7919 + 13, 360))
                    .await
                    .map_err(|e| Error::Internal(format!("seed picture task: {e}")))??;
            let image =
                images::store_image(&state.images, state.limits, bytes, String::new()).await?;
            Ok::<_, Error>(((hue, slot), image))
        })
        .buffer_unordered(4)
        .try_collect()
        .await?;
    let rendered: HashMap<(u8, usize), ProductImage> = rendered.into_iter().collect();

    let created: Vec<()> = stream::iter(missing)
        .map(|(id, input, created_at, picture)| {
            let rendered = &rendered;
            async move {
                let mut image = rendered
                    .get(&picture)
                    .cloned()
                    .ok_or_else(|| Error::Internal("seed picture missing".into()))?;
                image.alt = input.title.clone();
                write::create_with_id(state, id.clone(), input, created_at).await?;
                write::add_image(state, &id, image).await?;
                Ok::<_, Error>(())
            }
        })
        .buffer_unordered(8)
        .try_collect()
        .await?;
    report.products_created = created.len();
    Ok(report)
}

/// A plausible shipping weight by kind of product (no draw from the sequence, so the rest of
/// the demo catalog stays as it was).
fn demo_weight_grams(leaf: &str, size: &str) -> i64 {
    let base = match leaf {
        "T-shirts" => 200,
        "Hoodies" => 650,
        "Trousers" => 500,
        "Kitchen" => 900,
        "Lighting" => 1200,
        "Textiles" => 700,
        "Camping" => 2500,
        "Cycling" => 1500,
        "Running" => 400,
        _ => 450,
    };
    if size == "XL" { base + 100 } else { base }
}

fn demo_product(
    sequence: &mut Sequence,
    number: usize,
    leaf: &str,
    root: &CategoryId,
    leaf_id: &CategoryId,
) -> ProductInput {
    let adjective = ADJECTIVES[sequence.below(ADJECTIVES.len() as u64) as usize];
    let noun = leaf.trim_end_matches('s');
    let title = format!("{adjective} {noun} {number}");
    let brand = BRANDS[sequence.below(BRANDS.len() as u64) as usize];
    let base_price = 499 + 100 * sequence.below(150) as i64;
    let colour_count = 1 + sequence.below(3) as usize;
    let sized = matches!(leaf, "T-shirts" | "Hoodies" | "Trousers");
    let mut variants = Vec::new();
    for c in 0..colour_count {
        let colour = COLOURS[(number + c) % COLOURS.len()];
        let sizes: &[&str] = if sized {
            &SIZES[..2 + sequence.below(3) as usize]
        } else {
            &[""]
        };
        for size in sizes {
            let mut attributes = std::collections::BTreeMap::new();
            attributes.insert("colour".to_owned(), colour.to_owned());
            let mut sku = format!("SF-{number:04}-{}", colour.to_uppercase());
            if !size.is_empty() {
                attributes.insert("size".to_owned(), (*size).to_owned());
                sku.push('-');
                sku.push_str(size);
            }
            // Roughly one variant in eight is sold out.
            let stock = if sequence.below(8) == 0 {
                0
            } else {
                1 + sequence.below(60) as i64
            };
            let surcharge = if *size == "XL" { 200 } else { 0 };
            variants.push(VariantInput {
                sku,
                title: Some(if size.is_empty() {
                    colour.to_owned()
                } else {
                    format!("{colour}, {size}")
                }),
                price: Money::new(base_price + surcharge, Currency::EUR),
                attributes,
                stock: Some(stock),
                weight_grams: Some(demo_weight_grams(leaf, size)),
            });
        }
    }
    ProductInput {
        slug: slugify(&title),
        title: title.clone(),
        description: format!(
            "The {} {title} by {brand}: made to last, easy to love.",
            leaf.to_lowercase()
        ),
        brand: Some(brand.to_owned()),
        status: ProductStatus::Active,
        category_ids: vec![root.to_string(), leaf_id.to_string()],
        variants,
    }
}
