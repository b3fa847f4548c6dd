# The managed databases a production Storefront points at (spec.databases.<db>.external): each
# gets a generated password and admits only the EKS cluster (aws_security_group.data).

# ---- RDS PostgreSQL: the users, orders and catalog-ledger databases -----------------------------

resource "random_password" "postgres" {
  length  = 32
  special = false # the operator puts it in a URL
}

resource "aws_db_subnet_group" "main" {
  name       = var.name
  subnet_ids = aws_subnet.private[*].id
}

resource "aws_db_instance" "postgres" {
  identifier     = "${var.name}-postgres"
  engine         = "postgres"
  engine_version = var.postgres.version
  instance_class = var.postgres.instance_class

  allocated_storage     = var.postgres.allocated_storage
  max_allocated_storage = var.postgres.max_storage
  storage_type          = "gp3"
  storage_encrypted     = true

  username = "storefront"
  password = random_password.postgres.result
  port     = 5432

  db_subnet_group_name   = aws_db_subnet_group.main.name
  vpc_security_group_ids = [aws_security_group.data.id]
  publicly_accessible    = false
  multi_az               = var.postgres.multi_az

  backup_retention_period      = var.postgres.backup_days
  copy_tags_to_snapshot        = true
  deletion_protection          = var.deletion_protection
  skip_final_snapshot          = !var.deletion_protection
  final_snapshot_identifier    = var.deletion_protection ? "${var.name}-postgres-final" : null
  performance_insights_enabled = true
  auto_minor_version_upgrade   = true
  apply_immediately            = false
}

# ---- ElastiCache Redis: carts and the order events stream (TLS + AUTH: rediss://) --------------

resource "random_password" "redis" {
  length  = 48
  special = false
}

resource "aws_elasticache_subnet_group" "main" {
  name       = var.name
  subnet_ids = aws_subnet.private[*].id
}

resource "aws_elasticache_replication_group" "redis" {
  replication_group_id = "${var.name}-redis"
  description          = "Storefront carts and events"
  engine               = "redis"
  engine_version       = var.redis.version
  node_type            = var.redis.node_type
  port                 = 6379

  num_cache_clusters         = var.redis.replicas + 1
  automatic_failover_enabled = var.redis.replicas > 0
  multi_az_enabled           = var.redis.replicas > 0

  subnet_group_name          = aws_elasticache_subnet_group.main.name
  security_group_ids         = [aws_security_group.data.id]
  at_rest_encryption_enabled = true
  transit_encryption_enabled = true
  auth_token                 = random_password.redis.result
  snapshot_retention_limit   = 7
  apply_immediately          = false
}

# ---- Amazon OpenSearch Service: the search index (HTTPS, fine-grained access control) ----------

resource "random_password" "opensearch" {
  length      = 32
  special     = false
  min_upper   = 1
  min_lower   = 1
  min_numeric = 1
}

resource "aws_iam_service_linked_role" "opensearch" {
  count            = var.create_opensearch_service_linked_role ? 1 : 0
  aws_service_name = "opensearchservice.amazonaws.com"
}

data "aws_caller_identity" "current" {}

resource "aws_opensearch_domain" "search" {
  domain_name    = "${var.name}-search"
  engine_version = var.opensearch.engine_version

  cluster_config {
    instance_type          = var.opensearch.instance_type
    instance_count         = var.opensearch.instance_count
    zone_awareness_enabled = var.opensearch.instance_count > 1

    dynamic "zone_awareness_config" {
      for_each = var.opensearch.instance_count > 1 ? [1] : []
      content {
        availability_zone_count = min(var.opensearch.instance_count, length(local.zones))
      }
    }
  }

  ebs_options {
    ebs_enabled = true
    volume_type = "gp3"
    volume_size = var.opensearch.volume_gb
  }

  vpc_options {
    subnet_ids         = slice(aws_subnet.private[*].id, 0, min(var.opensearch.instance_count, length(local.zones)))
    security_group_ids = [aws_security_group.data.id]
  }

  encrypt_at_rest {
    enabled = true
  }

  node_to_node_encryption {
    enabled = true
  }

  domain_endpoint_options {
    enforce_https       = true
    tls_security_policy = "Policy-Min-TLS-1-2-2019-07"
  }

  # The search service signs in with the internal master user (basic auth over HTTPS).
  advanced_security_options {
    enabled                        = true
    internal_user_database_enabled = true
    master_user_options {
      master_user_name     = "storefront"
      master_user_password = random_password.opensearch.result
    }
  }

  access_policies = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "*" }
      Action    = "es:ESHttp*"
      Resource  = "arn:aws:es:${var.region}:${data.aws_caller_identity.current.account_id}:domain/${var.name}-search/*"
    }]
  })

  depends_on = [aws_iam_service_linked_role.opensearch]
}

# ---- Amazon DocumentDB (optional): the catalog's documents --------------------------------------

resource "random_password" "documentdb" {
  count   = var.documentdb.enabled ? 1 : 0
  length  = 32
  special = false
}

resource "aws_docdb_subnet_group" "main" {
  count      = var.documentdb.enabled ? 1 : 0
  name       = var.name
  subnet_ids = aws_subnet.private[*].id
}

resource "aws_docdb_cluster" "documents" {
  count                     = var.documentdb.enabled ? 1 : 0
  cluster_identifier        = "${var.name}-documents"
  engine                    = "docdb"
  master_username           = "storefront"
  master_password           = random_password.documentdb[0].result
  db_subnet_group_name      = aws_docdb_subnet_group.main[0].name
  vpc_security_group_ids    = [aws_security_group.data.id]
  storage_encrypted         = true
  backup_retention_period   = 7
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = !var.deletion_protection
  final_snapshot_identifier = var.deletion_protection ? "${var.name}-documents-final" : null
}

resource "aws_docdb_cluster_instance" "documents" {
  count              = var.documentdb.enabled ? var.documentdb.instances : 0
  identifier         = "${var.name}-documents-${count.index}"
  cluster_identifier = aws_docdb_cluster.documents[0].id
  instance_class     = var.documentdb.instance_class
}
