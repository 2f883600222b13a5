export function Greeting({ name }: { name: string }) {
  return <p id="greeting">Hallo {name}</p>;
}
