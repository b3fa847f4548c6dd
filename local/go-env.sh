# Sourced by the build scripts under local/: Go caches and built binaries live outside the clone.
: "${STOREFRONT_CACHE:=$HOME/.cache/storefront}"
export GOPATH="$STOREFRONT_CACHE/go/path"
export GOMODCACHE="$STOREFRONT_CACHE/go/mod"
export GOCACHE="$STOREFRONT_CACHE/go/build"
export GOFLAGS="-buildvcs=false -modcacherw"
export GOTOOLCHAIN=local
