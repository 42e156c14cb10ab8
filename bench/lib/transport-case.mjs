export async function runTransportBench() {
  return [];
}
