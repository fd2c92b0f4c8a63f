"""Files on this machine: fetching, the wheel cache, wheel checks and the unpacked store."""
