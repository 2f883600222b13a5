type Profile = { name: string } | undefined;

function loadProfile(): Profile {
  return undefined;
}

export function Greeting({ name }: { name: string }) {
  const profile = loadProfile();
  if (!profile) {
    throw new Error(`Greeting: profile for ${name} could not be loaded`);
  }
  return <p id="greeting">Hallo {profile.name}</p>;
}
