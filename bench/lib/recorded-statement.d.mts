// Types of recorded-statement.mjs, for the test that holds it to the statement's JSON.
export declare function statementFacts(json: string): {
  head: string;
  digest: string;
  lines: number;
  total: string;
};
export declare function matchesRecord(json: string, yaml: string, file?: string): boolean | null;
export declare function record(json: string, yaml: string, month: string, by: string, file?: string): void;
