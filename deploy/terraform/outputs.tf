output "cluster_name" {
  description = "EKS cluster name."
  value       = aws_eks_cluster.main.name
}

output "kubeconfig_command" {
  description = "Writes a kubeconfig entry for the cluster."
  value       = "aws eks update-kubeconfig --region ${var.region} --name ${aws_eks_cluster.main.name}"
}

output "postgres_endpoint" {
  description = "RDS PostgreSQL host and port."
  value       = { host = aws_db_instance.postgres.address, port = aws_db_instance.postgres.port }
}

output "redis_endpoint" {
  description = "ElastiCache primary endpoint (TLS)."
  value       = { host = aws_elasticache_replication_group.redis.primary_endpoint_address, port = 6379 }
}

output "opensearch_endpoint" {
  description = "OpenSearch Service domain endpoint (HTTPS on 443)."
  value       = { host = aws_opensearch_domain.search.endpoint, port = 443 }
}

output "documentdb_endpoint" {
  description = "DocumentDB cluster endpoint, when enabled."
  value       = var.documentdb.enabled ? { host = aws_docdb_cluster.documents[0].endpoint, port = 27017 } : null
}

output "backups_bucket" {
  description = "spec.backups.target.s3.url is s3://<this>/<store>."
  value       = aws_s3_bucket.store["backups"].bucket
}

output "images_bucket" {
  description = "Bucket of the catalog's product images."
  value       = aws_s3_bucket.store["images"].bucket
}

# `terraform output -raw storefront_secrets | sh` (with kubectl pointed at the cluster and the
# store's namespace selected) creates the Secrets examples/production.yaml refers to.
output "storefront_secrets" {
  description = "kubectl commands creating the Secrets of examples/production.yaml."
  sensitive   = true
  value       = <<-EOT
    kubectl create secret generic shop-rds --from-literal=host=${aws_db_instance.postgres.address} --from-literal=port=5432 --from-literal=username=storefront --from-literal=password=${random_password.postgres.result}
    kubectl create secret generic shop-elasticache --from-literal=host=${aws_elasticache_replication_group.redis.primary_endpoint_address} --from-literal=port=6379 --from-literal=username=default --from-literal=password=${random_password.redis.result}
    kubectl create secret generic shop-opensearch-service --from-literal=host=${aws_opensearch_domain.search.endpoint} --from-literal=port=443 --from-literal=username=storefront --from-literal=password=${random_password.opensearch.result}
    kubectl create secret generic shop-backup-credentials --from-literal=accessKeyId=${aws_iam_access_key.store["backups"].id} --from-literal=secretAccessKey=${aws_iam_access_key.store["backups"].secret}
  EOT
}
