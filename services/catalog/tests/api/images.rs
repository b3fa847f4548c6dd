use axum::body::Body;
use http::{Request, StatusCode, header};
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder};

use std::sync::Arc;

use storefront_catalog::images::{ObjectStore, S3Settings, S3Store};
use storefront_kit::testing::{S3_SECRET_KEY, create_s3_bucket};

use crate::common::{TEST_LIMITS, TestApp, app, app_with_images};

fn png(width: u32, height: u32, colour: ExtendedColorType) -> Vec<u8> {
    let channels = match colour {
        ExtendedColorType::L8 => 1,
        _ => 3,
    };
    // Smooth gradients: small files whatever the size in pixels.
    let pixels: Vec<u8> = (0..width as usize * height as usize * channels)
        .map(|i| ((i / channels) % width as usize * 255 / width as usize) as u8)
        .collect();
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(&pixels, width, height, colour)
        .unwrap();
    out
}

fn multipart(file: &[u8], file_name: &str, declared_type: &str) -> (String, Vec<u8>) {
    let boundary = "catalog-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"alt\"\r\n\r\nA picture\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {declared_type}\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(
    app: &TestApp,
    product: &str,
    file: &[u8],
    declared_type: &str,
) -> crate::common::Reply {
    let (content_type, body) = multipart(file, "upload.png", declared_type);
    let request = Request::post(format!("/api/catalog/products/{product}/images"))
        .header(header::AUTHORIZATION, format!("Bearer {}", app.admin))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

#[tokio::test]
async fn an_upload_gets_variants_served_with_long_cache_headers() {
    let app = app().await;
    let product = app.product("pic", "PIC", 100, 1, &[]).await;
    let reply = upload(
        &app,
        &product,
        &png(640, 480, ExtendedColorType::Rgb8),
        "image/png",
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    assert_eq!(reply.headers["etag"], "\"2\"");
    let image = &reply.body["images"][0];
    assert_eq!(image["width"], 640);
    assert_eq!(image["alt"], "A picture");
    for (variant, side) in [("thumbnail", 200), ("medium", 640)] {
        let url = image["urls"][variant].as_str().unwrap();
        let response = app
            .send(Request::get(url).body(Body::empty()).unwrap())
            .await;
        assert_eq!(response.status, StatusCode::OK, "{url}");
        assert_eq!(response.headers["content-type"], "image/jpeg");
        assert!(
            response.headers["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        let etag = response.headers["etag"].to_str().unwrap().to_owned();
        let again = app
            .send(
                Request::get(url)
                    .header(header::IF_NONE_MATCH, etag)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);
        let _ = side;
    }
    // Uploading the same bytes again is the same image: no duplicate, no new version.
    let again = upload(
        &app,
        &product,
        &png(640, 480, ExtendedColorType::Rgb8),
        "image/png",
    )
    .await;
    assert_eq!(again.body["images"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.get("/api/catalog/images/0123456789abcdef0123456789abcdef/medium.jpg")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/api/catalog/images/..%2F..%2Fetc/passwd")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    app.cleanup().await;
}

#[tokio::test]
async fn non_images_oversized_files_and_decompression_bombs_are_refused() {
    let app = app().await;
    let product = app.product("bad", "BAD", 100, 1, &[]).await;

    let script = upload(&app, &product, b"#!/bin/sh\necho pwned\n", "image/png").await;
    assert_eq!(
        script.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{script:?}"
    );
    let mut gif = b"GIF89a".to_vec();
    gif.extend_from_slice(&[0; 64]);
    assert_eq!(
        upload(&app, &product, &gif, "image/gif").await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );

    // Bigger than the byte limit (noise does not compress).
    let mut noise = png(8, 8, ExtendedColorType::Rgb8);
    noise.extend((0..TEST_LIMITS.max_bytes + 10_000).map(|i| (i * 7919 % 251) as u8));
    let oversized = upload(&app, &product, &noise, "image/png").await;
    assert_eq!(
        oversized.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{oversized:?}"
    );

    // A few kilobytes that would decode to 9 million pixels: refused before decoding.
    let bomb = png(3000, 3000, ExtendedColorType::L8);
    assert!(bomb.len() < TEST_LIMITS.max_bytes, "{} bytes", bomb.len());
    let refused = upload(&app, &product, &bomb, "image/png").await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{refused:?}"
    );
    assert_eq!(refused.headers["content-type"], "application/problem+json");

    let no_file = app
        .send(
            Request::post(format!("/api/catalog/products/{product}/images"))
                .header(header::AUTHORIZATION, format!("Bearer {}", app.admin))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert!(no_file.status.is_client_error(), "{no_file:?}");
    let doc = app.get(&format!("/api/catalog/products/{product}")).await;
    assert_eq!(
        doc.body["images"],
        serde_json::json!([]),
        "nothing was attached"
    );
    app.cleanup().await;
}

fn s3_settings(bucket: &str, secret: &str) -> S3Settings {
    S3Settings {
        prefix: "store-a/".into(),
        secret_access_key: secret.into(),
        ..storefront_kit::testing::s3_settings(bucket)
    }
}

#[tokio::test]
async fn objects_round_trip_through_an_s3_bucket_with_signed_requests() {
    let bucket = create_s3_bucket("images").await;
    let store = S3Store::new(&s3_settings(&bucket, S3_SECRET_KEY)).unwrap();
    store
        .put("ab12/thumbnail.jpg", vec![1, 2, 3], "image/jpeg")
        .await
        .unwrap();
    let object = store.get("ab12/thumbnail.jpg").await.unwrap().unwrap();
    assert_eq!(object.bytes, vec![1, 2, 3]);
    assert_eq!(object.content_type, "image/jpeg");
    assert_eq!(store.get("ab12/medium.jpg").await.unwrap(), None);
    assert!(store.get("../escape").await.is_err(), "keys are checked");

    // The prefix keeps stores apart in one bucket.
    let mut other = s3_settings(&bucket, S3_SECRET_KEY);
    other.prefix = "store-b/".into();
    let other = S3Store::new(&other).unwrap();
    assert_eq!(other.get("ab12/thumbnail.jpg").await.unwrap(), None);

    // A wrong secret is refused by the server, and reported as an error, not as a missing object.
    let forged = S3Store::new(&s3_settings(&bucket, "not-the-secret")).unwrap();
    assert!(forged.get("ab12/thumbnail.jpg").await.is_err());
    assert!(
        forged
            .put("ab12/x.jpg", vec![0], "image/jpeg")
            .await
            .is_err()
    );

    let mut bad = s3_settings(&bucket, S3_SECRET_KEY);
    bad.prefix = "../up/".into();
    assert!(S3Store::new(&bad).is_err());
}

#[tokio::test]
async fn uploads_are_stored_in_and_served_from_s3() {
    let bucket = create_s3_bucket("images").await;
    let store: Arc<dyn ObjectStore> =
        Arc::new(S3Store::new(&s3_settings(&bucket, S3_SECRET_KEY)).unwrap());
    let app = app_with_images(Some(store.clone())).await;
    let product = app.product("s3-pic", "S3PIC", 100, 1, &[]).await;
    let reply = upload(
        &app,
        &product,
        &png(320, 240, ExtendedColorType::Rgb8),
        "image/png",
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    let url = reply.body["images"][0]["urls"]["thumbnail"]
        .as_str()
        .unwrap()
        .to_owned();
    let served = app
        .send(Request::get(&url).body(Body::empty()).unwrap())
        .await;
    assert_eq!(served.status, StatusCode::OK, "{url}");
    assert_eq!(served.headers["content-type"], "image/jpeg");
    // The bytes are in the bucket, under the image's key.
    let image_id = reply.body["images"][0]["id"].as_str().unwrap();
    let stored = store
        .get(&format!("{image_id}/thumbnail.jpg"))
        .await
        .unwrap()
        .expect("the thumbnail is in the bucket");
    assert!(stored.bytes.starts_with(&[0xFF, 0xD8]), "a JPEG");
    app.cleanup().await;
}
