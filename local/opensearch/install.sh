#!/usr/bin/env bash
# Assembles an OpenSearch node into $2 from Maven Central: the integ-test distribution (which carries
# only transport-netty4) plus the standard modules a shop search needs (analysis-common for synonyms,
# stemmers and edge n-grams; mapper-extras for search_as_you_type; reindex; painless).
# Usage: install.sh VERSION OUT_DIR. Called by `cargo xtask` when the cached install is missing.
set -euo pipefail
version=${1:?usage: install.sh VERSION OUT_DIR}
out=${2:?usage: install.sh VERSION OUT_DIR}
: "${STOREFRONT_CACHE:=$HOME/.cache/storefront}"
m2="$STOREFRONT_CACHE/m2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mvn -q -B -Dmaven.repo.local="$m2" dependency:copy \
  -Dartifact="org.opensearch.distribution.integ-test-zip:opensearch:$version:zip" -DoutputDirectory="$work"
unzip -q "$work/opensearch-$version.zip" -d "$work/unpacked"
home="$work/unpacked/opensearch-$version"

# A jar already on the server's classpath must not appear again in a module ("jar hell").
ls "$home/lib" | sed -E 's/-[0-9][^-]*(-[0-9]+)?\.jar$//' | sort -u > "$work/lib-names"

# name|artifact|plugin class|extended plugins
while IFS='|' read -r name artifact class extends; do
  dir="$home/modules/$name"
  mkdir -p "$dir"
  cat > "$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>storefront.local</groupId><artifactId>opensearch-module</artifactId><version>1</version><packaging>pom</packaging>
<dependencies><dependency><groupId>org.opensearch.plugin</groupId><artifactId>$artifact</artifactId><version>$version</version>
<exclusions><exclusion><groupId>org.opensearch</groupId><artifactId>opensearch</artifactId></exclusion></exclusions>
</dependency></dependencies></project>
POM
  (cd "$work" && mvn -q -B -Dmaven.repo.local="$m2" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$dir")
  for jar in "$dir"/*.jar; do
    base=$(basename "$jar" | sed -E 's/-[0-9][^-]*(-[0-9]+)?\.jar$//')
    if grep -qx "$base" "$work/lib-names"; then rm -f "$jar"; fi
  done
  cat > "$dir/plugin-descriptor.properties" <<PROPS
description=$name
version=$version
name=$name
classname=$class
java.version=11
opensearch.version=$version
custom.foldername=
extended.plugins=$extends
has.native.controller=false
PROPS
done <<'MODULES'
lang-painless|lang-painless|org.opensearch.painless.PainlessPlugin|
analysis-common|analysis-common|org.opensearch.analysis.common.CommonAnalysisPlugin|lang-painless
mapper-extras|mapper-extras-client|org.opensearch.index.mapper.MapperExtrasPlugin|
reindex|reindex-client|org.opensearch.index.reindex.ReindexPlugin|
MODULES

cat > "$home/modules/lang-painless/plugin-security.policy" <<'POLICY'
grant {
  permission java.lang.RuntimePermission "createClassLoader";
  permission java.lang.RuntimePermission "getClassLoader";
};
POLICY
cat > "$home/modules/reindex/plugin-security.policy" <<'POLICY'
grant {
  permission java.net.SocketPermission "*", "connect";
};
grant codeBase "${codebase.opensearch-rest-client}" {
  permission java.net.NetPermission "getProxySelector";
};
grant codeBase "${codebase.httpasyncclient}" {
  permission java.net.NetPermission "getProxySelector";
};
POLICY

rm -rf "$out"
mkdir -p "$(dirname "$out")"
mv "$home" "$out"
