// Loaded from the layout; sets a flag instead of touching React's DOM (no hydration mismatch).
window.labScriptLoaded = true;
