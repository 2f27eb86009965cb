// The benchmark scenario for k6: GET / as fast as possible, no sleep.
// BASE_URL is passed with -e BASE_URL=http://127.0.0.1:PORT by run.sh.
import http from "k6/http";

export default function () {
  http.get(`${__ENV.BASE_URL}/`);
}
