"""The certificate document: layout and rendering, Thai line breaking, the QR code's drawing."""
