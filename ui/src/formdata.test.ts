import { describe, expect, it } from "vitest";
import { errorText } from "./api";
import { buildRequest, opensModel, parseArrivalRate } from "./formdata";

const fields = { users: "50", spawnRate: "10", host: " http://127.0.0.1:8080 ", runTime: "10m", rate: "" };

describe("buildRequest", () => {
  it("sends every field of a start", () => {
    expect(buildRequest("start", fields)).toEqual({
      users: 50,
      spawn_rate: 10,
      host: "http://127.0.0.1:8080",
      run_time: "10m",
    });
  });
  it("leaves empty optional fields to the server", () => {
    expect(buildRequest("start", { users: "5", spawnRate: "", host: "", runTime: " ", rate: " " })).toEqual({ users: 5 });
  });
  it("sends only users and spawn rate for an edit", () => {
    expect(buildRequest("edit", fields)).toEqual({ users: 50, spawn_rate: 10 });
  });
  it.each(["", "-1", "2.5", "ten"])("refuses users %j", (users) => {
    expect(typeof buildRequest("start", { ...fields, users })).toBe("string");
  });
  it.each(["0", "-2", "x"])("refuses spawn rate %j", (spawnRate) => {
    expect(typeof buildRequest("start", { ...fields, spawnRate })).toBe("string");
  });
});

describe("buildRequest with an arrival rate", () => {
  it("starts an open-model test: users is the pool, no spawn rate", () => {
    expect(buildRequest("start", { ...fields, rate: " 300 " })).toEqual({
      users: 50,
      rate: 300,
      host: "http://127.0.0.1:8080",
      run_time: "10m",
    });
  });
  it("ignores a bad spawn rate when the rate is set", () => {
    expect(buildRequest("start", { ...fields, spawnRate: "", rate: "2.5" })).toEqual(
      expect.objectContaining({ users: 50, rate: 2.5 }),
    );
    expect(buildRequest("start", { ...fields, spawnRate: "-1", rate: "1e2" })).toEqual(
      expect.objectContaining({ rate: 100 }),
    );
  });
  it("sends no rate key when the field is empty (closed model)", () => {
    const req = buildRequest("start", fields);
    expect(req).not.toHaveProperty("rate");
    expect(req).toHaveProperty("spawn_rate", 10);
  });
  it("takes 0 as the closed model on a start", () => {
    const req = buildRequest("start", { ...fields, rate: "0" });
    expect(req).not.toHaveProperty("rate");
    expect(req).toHaveProperty("spawn_rate", 10);
  });
  it.each(["-1", "-0.5", "NaN", "nan", "Infinity", "ten", "1e999", "0x10", "1,5", "--1", "."])("refuses rate %j", (rate) => {
    const got = buildRequest("start", { ...fields, rate });
    expect(typeof got).toBe("string");
    expect(got).toMatch(/Arrival rate/);
  });
  it.each(["-1", "-0.5", "-1e3"])("says a rate %j is negative", (rate) => {
    expect(buildRequest("start", { ...fields, rate })).toMatch(/cannot be negative/);
  });
  it("keeps the rate of an open-model test when an edit leaves it empty", () => {
    expect(buildRequest("edit", { ...fields, rate: "" }, { open: true })).toEqual({ users: 50 });
  });
  it("changes the rate of an open-model test in an edit", () => {
    expect(buildRequest("edit", { ...fields, rate: "75" }, { open: true })).toEqual({ users: 50, rate: 75 });
  });
  it("refuses a rate of 0 in an edit: the server would keep the current one", () => {
    expect(buildRequest("edit", { ...fields, rate: "0" }, { open: true })).toMatch(/leave it empty to keep/);
  });
  it("edits a closed-model test as before", () => {
    expect(buildRequest("edit", fields, { open: false })).toEqual({ users: 50, spawn_rate: 10 });
  });
});

describe("parseArrivalRate", () => {
  it.each([
    ["", undefined],
    ["  ", undefined],
    ["300", 300],
    ["+2.5", 2.5],
    [".5", 0.5],
    ["5.", 5],
    ["0", 0],
    ["1E3", 1000],
  ])("%j is %j", (text, want) => {
    expect(parseArrivalRate(text)).toBe(want);
  });
  it.each(["-3", "abc", "NaN", "Infinity", "1e400", "1 2", "+-1", "++1"])("%j is an error", (text) => {
    expect(typeof parseArrivalRate(text)).toBe("string");
  });
});

describe("opensModel", () => {
  it.each([
    ["start", "", false, false],
    ["start", "0", false, false],
    ["start", "bad", false, false],
    ["start", "10", false, true],
    ["start", "", true, false],
    ["edit", "", false, false],
    ["edit", "", true, true],
    ["edit", "5", false, true],
  ] as const)("%s rate %j open %j is %j", (mode, rate, open, want) => {
    expect(opensModel(mode, rate, { open })).toBe(want);
  });
});

describe("errorText", () => {
  it.each([
    [400, '{"error": "run_time: bad duration \\"abc\\""}', 'run_time: bad duration "abc"'],
    [400, "plain words\n", "plain words"],
    [502, "", "HTTP 502"],
    [500, "{}", "{}"],
  ])("%i %j is %j", (status, body, want) => {
    expect(errorText(status, body)).toBe(want);
  });
});
