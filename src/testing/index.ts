/**
 * `keyward/testing`: the storage conformance suite (in progress in this commit).
 * @module
 */
export {};
