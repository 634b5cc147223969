"""The launchsync domain: releases, launch events, policy, divergences and the reconciler."""
