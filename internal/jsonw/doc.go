// Package jsonw writes the little JSON this project prints (--plan, -f
// --json) byte for byte as encoding/json would with SetEscapeHTML(false),
// so that the binary does not link encoding/json and the reflection it
// drives (about 0.1 MB of a gzip'd initramfs). It never reads JSON and
// imports nothing of this project.
package jsonw
