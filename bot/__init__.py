"""技行 (Jixing): a gamified learning chatbot for the city's industrial-worker training campaign."""
