/**
 * Memory mappings: anonymous memory backed by small, transparent or hugetlb
 * pages, and files mapped with no copy.
 *
 * @module
 */
export { type Advice, ADVICE_NAMES } from "./advice.ts";
export { FileMapping, type FileMappingInit, mapFile, type MapFileOptions } from "./file.ts";
export { mapMemory, type MapMemoryOptions, Mapping, type MappingInit, type PageBacking } from "./mapping.ts";
export type { RegionState } from "./region.ts";
export type { Residency } from "./residency.ts";
