# S3: one bucket for the backups (spec.backups.target.s3), one for product images (the catalog's
# S3 image store). Private, encrypted, versioned; an IAM user per bucket whose key pair goes
# into the Storefront's Secrets (the operator and the catalog take static keys).

data "aws_partition" "current" {}

resource "aws_s3_bucket" "store" {
  for_each      = toset(["backups", "images"])
  bucket        = "${var.name}-${each.key}-${data.aws_caller_identity.current.account_id}"
  force_destroy = false
}

resource "aws_s3_bucket_public_access_block" "store" {
  for_each                = aws_s3_bucket.store
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "store" {
  for_each = aws_s3_bucket.store
  bucket   = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "store" {
  for_each = aws_s3_bucket.store
  bucket   = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "store" {
  for_each = aws_s3_bucket.store
  bucket   = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

# Backups expire after backup_retention_days even if the operator's count-based pruning stops.
resource "aws_s3_bucket_lifecycle_configuration" "backups" {
  bucket = aws_s3_bucket.store["backups"].id

  rule {
    id     = "expire-backups"
    status = "Enabled"
    filter {}
    expiration {
      days = var.backup_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_iam_user" "store" {
  for_each = aws_s3_bucket.store
  name     = "${var.name}-${each.key}"
}

data "aws_iam_policy_document" "store" {
  for_each = aws_s3_bucket.store

  statement {
    actions   = ["s3:ListBucket"]
    resources = [each.value.arn]
  }
  statement {
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${each.value.arn}/*"]
  }
}

resource "aws_iam_user_policy" "store" {
  for_each = aws_s3_bucket.store
  name     = "${var.name}-${each.key}"
  user     = aws_iam_user.store[each.key].name
  policy   = data.aws_iam_policy_document.store[each.key].json
}

resource "aws_iam_access_key" "store" {
  for_each = aws_iam_user.store
  user     = each.value.name
}
