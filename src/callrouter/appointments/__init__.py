"""Pass RDV: appointment slots, bookings that reserve an expert, cancel and reschedule."""
