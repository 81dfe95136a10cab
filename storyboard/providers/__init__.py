"""Video providers: the kie.ai client, its offline emulator, and the animatic renderer."""
