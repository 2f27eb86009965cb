import { describe, expect, it } from "vitest";
import { errorText } from "./api";
import { buildRequest } from "./formdata";

const fields = { users: "50", spawnRate: "10", host: " http://127.0.0.1:8080 ", runTime: "10m" };

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
    expect(buildRequest("start", { users: "5", spawnRate: "", host: "", runTime: " " })).toEqual({ users: 5 });
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
