import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

export interface TestCertificate {
  key: Buffer;
  cert: Buffer;
  /** PEM file of the CA that signed `cert` (for KILN_EXTRA_CA_FILE and the like). */
  caFile: string;
}

/**
 * A certificate for `host` (an IP address or a name) signed by a throwaway CA, both made with openssl in
 * `dir`: a real https server for tests, trusted by whoever is given the CA.
 */
export async function testCertificate(dir: string, host: string): Promise<TestCertificate> {
  const f = (name: string) => path.join(dir, name);
  const days = ["-days", "2"];
  await exec(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", ...days, "-keyout", f("ca.key")].concat([
      "-out",
      f("ca.pem"),
      "-subj",
      "/CN=Kiln test CA",
    ]),
  );
  await exec(
    "openssl",
    ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", f("server.key")].concat([
      "-out",
      f("server.csr"),
      "-subj",
      `/CN=${host}`,
    ]),
  );
  const san = /^[\d.]+$|:/.test(host) ? `IP:${host}` : `DNS:${host}`;
  await writeFile(f("san.ext"), `subjectAltName=${san}\n`);
  await exec(
    "openssl",
    ["x509", "-req", "-in", f("server.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key")].concat([
      "-CAcreateserial",
      ...days,
      "-out",
      f("server.pem"),
      "-extfile",
      f("san.ext"),
    ]),
  );
  return { key: await readFile(f("server.key")), cert: await readFile(f("server.pem")), caFile: f("ca.pem") };
}
