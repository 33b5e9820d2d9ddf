/**
 * MIME types by file extension, for the Content-Type of served files.
 *
 * A table of the common web and download types. Text types carry
 * `charset=utf-8`. Anything else is `application/octet-stream`, which browsers
 * download rather than guess at (the server also sends
 * `X-Content-Type-Options: nosniff`).
 *
 * @module
 */

const TEXT = "; charset=utf-8";

/** Extension (lower case, without the dot) to Content-Type. */
const TYPES: ReadonlyMap<string, string> = new Map([
  // Web documents and code
  ["html", `text/html${TEXT}`],
  ["htm", `text/html${TEXT}`],
  ["css", `text/css${TEXT}`],
  ["js", `text/javascript${TEXT}`],
  ["mjs", `text/javascript${TEXT}`],
  ["cjs", `text/javascript${TEXT}`],
  ["json", "application/json"],
  ["map", "application/json"],
  ["jsonld", "application/ld+json"],
  ["webmanifest", "application/manifest+json"],
  ["wasm", "application/wasm"],
  ["xml", `application/xml${TEXT}`],
  ["xhtml", `application/xhtml+xml${TEXT}`],
  ["rss", "application/rss+xml"],
  ["atom", "application/atom+xml"],
  // Plain text and data
  ["txt", `text/plain${TEXT}`],
  ["text", `text/plain${TEXT}`],
  ["log", `text/plain${TEXT}`],
  ["md", `text/markdown${TEXT}`],
  ["markdown", `text/markdown${TEXT}`],
  ["csv", `text/csv${TEXT}`],
  ["tsv", `text/tab-separated-values${TEXT}`],
  ["ics", `text/calendar${TEXT}`],
  ["yaml", `application/yaml${TEXT}`],
  ["yml", `application/yaml${TEXT}`],
  ["toml", `application/toml${TEXT}`],
  // Images
  ["png", "image/png"],
  ["apng", "image/apng"],
  ["jpg", "image/jpeg"],
  ["jpeg", "image/jpeg"],
  ["gif", "image/gif"],
  ["webp", "image/webp"],
  ["avif", "image/avif"],
  ["svg", "image/svg+xml"],
  ["ico", "image/vnd.microsoft.icon"],
  ["bmp", "image/bmp"],
  ["tif", "image/tiff"],
  ["tiff", "image/tiff"],
  // Fonts
  ["woff", "font/woff"],
  ["woff2", "font/woff2"],
  ["ttf", "font/ttf"],
  ["otf", "font/otf"],
  ["eot", "application/vnd.ms-fontobject"],
  // Audio and video
  ["mp3", "audio/mpeg"],
  ["ogg", "audio/ogg"],
  ["oga", "audio/ogg"],
  ["opus", "audio/opus"],
  ["wav", "audio/wav"],
  ["flac", "audio/flac"],
  ["aac", "audio/aac"],
  ["m4a", "audio/mp4"],
  ["mp4", "video/mp4"],
  ["m4v", "video/mp4"],
  ["webm", "video/webm"],
  ["ogv", "video/ogg"],
  ["mov", "video/quicktime"],
  ["m3u8", "application/vnd.apple.mpegurl"],
  ["ts", "video/mp2t"],
  // Documents and archives
  ["pdf", "application/pdf"],
  ["zip", "application/zip"],
  ["gz", "application/gzip"],
  ["tgz", "application/gzip"],
  ["tar", "application/x-tar"],
  ["bz2", "application/x-bzip2"],
  ["xz", "application/x-xz"],
  ["zst", "application/zstd"],
  ["7z", "application/x-7z-compressed"],
  ["epub", "application/epub+zip"],
  ["doc", "application/msword"],
  ["docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"],
  ["xls", "application/vnd.ms-excel"],
  ["xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
  ["ppt", "application/vnd.ms-powerpoint"],
  ["pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"],
  ["odt", "application/vnd.oasis.opendocument.text"],
  ["rtf", "application/rtf"],
  ["bin", "application/octet-stream"],
  ["iso", "application/octet-stream"],
  ["deb", "application/vnd.debian.binary-package"],
]);

/** The Content-Type for files whose extension is not in the table. */
export const DEFAULT_MIME_TYPE = "application/octet-stream";

/**
 * The Content-Type of a file by the extension of its name ("a/b/index.html"
 * gives "text/html; charset=utf-8"); `application/octet-stream` when unknown.
 * `overrides` (extension without the dot, lower case) wins over the table.
 */
export function mimeType(path: string, overrides?: Readonly<Record<string, string>>): string {
  const slash = path.lastIndexOf("/");
  const dot = path.lastIndexOf(".");
  if (dot <= slash + 1) return DEFAULT_MIME_TYPE; // no extension, or a dotfile such as ".env"
  const ext = path.slice(dot + 1).toLowerCase();
  return overrides?.[ext] ?? TYPES.get(ext) ?? DEFAULT_MIME_TYPE;
}
