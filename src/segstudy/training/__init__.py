"""Training: losses, the U-Net fit loop with resume, and the metric-regressing GAN."""
