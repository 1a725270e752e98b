// Kept in step with package.json by the release process (test/cli checks it).
export const VERSION = "0.1.0";
