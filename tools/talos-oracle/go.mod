// The module root only. Each supported Talos minor has its own module file, v1.<minor>.mod
// (with v1.<minor>.sum), that pins github.com/siderolabs/talos/pkg/machinery; build with
// `go build -modfile=v1.<minor>.mod` (tools/talos-oracle/build.sh does it for every minor).
module talhorn.dev/talos-oracle

go 1.23
