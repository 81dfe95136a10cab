"""Running a plan: the scheduler, its steps, backends, events and the render command's core."""
