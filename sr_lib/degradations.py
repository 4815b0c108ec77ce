"""Degradations beside :func:`sr_lib.data.degrade`: named ones for evaluation (:func:`named`), a
random mix for training (:func:`random_degrade`); in a camera's order: blur, resize, noise, JPEG."""

# Resizing kernels: (tf.image.resize method, antialias). "bicubic" is `degrade`'s.
KERNELS = {"bicubic": ("bicubic", True), "bicubic_naive": ("bicubic", False),
           "bilinear": ("bilinear", True), "bilinear_naive": ("bilinear", False),
           "area": ("area", False), "lanczos": ("lanczos3", True)}
NAMED = (*KERNELS, "blur", "jpeg75", "jpeg90")
BLUR_TAPS = 13  # the training blur's kernel width (sigma up to 2 HR pixels)
# The robust photo model's mix: kernel weights, then each step's chance and range (blur sigma in
# HR pixels, noise sigma in 8-bit levels, Poisson's at mid-grey, JPEG quality).
ROBUST = dict(kernels=dict(bicubic=3, bicubic_naive=2, bilinear=1, bilinear_naive=1, area=2,
                           lanczos=1),
              blur=0.2, blur_sigma=[0.3, 2.0], gaussian_noise=0.2, poisson_noise=0.1,
              noise_sigma=[1.0, 5.0], jpeg=0.4, jpeg_quality=[30, 95])
# ROBUST with the antialias-free kernels weighted up and less blur, noise and JPEG: the robust
# model gained least on naive resizes (scripts/mix_probe.py's "rebalanced")
REBALANCED = dict(ROBUST, kernels=dict(bicubic=2, bicubic_naive=4, bilinear=1, bilinear_naive=2,
                                       area=2, lanczos=1),
                  blur=0.1, gaussian_noise=0.15, poisson_noise=0.05, jpeg=0.3)


def _resize(x, size, kernel):
    import tensorflow as tf

    method, antialias = KERNELS[kernel]
    return tf.image.resize(x, size, method=method, antialias=antialias)


def _blur(x, sigma):
    """Separable :data:`BLUR_TAPS`-tap Gaussian blur of (N, H, W, C) ``x``, reflecting borders."""
    import tensorflow as tf

    half = BLUR_TAPS // 2
    taps = tf.range(-half, half + 1, dtype=tf.float32)
    kernel = tf.exp(-0.5 * (taps / sigma) ** 2)
    kernel = kernel / tf.reduce_sum(kernel)
    channels = tf.shape(x)[-1]
    x = tf.pad(x, [[0, 0], [half, half], [half, half], [0, 0]], mode="REFLECT")
    for shape in ((BLUR_TAPS, 1, 1, 1), (1, BLUR_TAPS, 1, 1)):  # rows, then columns
        taps = tf.tile(tf.reshape(kernel, shape), [1, 1, channels, 1])
        x = tf.nn.depthwise_conv2d(x, taps, [1, 1, 1, 1], "VALID")
    return x


def random_degrade(hr, size, seed, mix=None):
    """A random 8-bit LR batch of ``hr`` (N, H, W, C) at ``size`` by the stateless ``seed`` from
    ``mix`` (default :data:`ROBUST`): kernel and blur per batch, noise and JPEG per image."""
    import tensorflow as tf

    mix = ROBUST if mix is None else mix
    names = sorted(mix["kernels"])
    seeds = tf.unstack(tf.random.experimental.stateless_split(seed, 8))
    uniform = tf.random.stateless_uniform
    logits = tf.math.log(tf.constant([[float(mix["kernels"][k]) for k in names]]))
    which = tf.random.stateless_categorical(logits, 1, seeds[0])[0, 0]
    lo, hi = mix.get("blur_sigma", [0.3, 2.0])
    blurred = tf.cond(uniform((), seeds[1]) < mix.get("blur", 0.0),
                      lambda: _blur(hr, uniform((), seeds[2], lo, hi)), lambda: hr)
    lr = tf.switch_case(tf.cast(which, tf.int32),
                        [lambda k=k: _resize(blurred, size, k) for k in names])
    n = tf.shape(lr)[0]
    sigma = uniform((n, 1, 1, 1), seeds[3], *mix.get("noise_sigma", [1.0, 5.0])) / 255.0
    noise = tf.random.stateless_normal(tf.shape(lr), seeds[4])
    kind = uniform((n, 1, 1, 1), seeds[5])
    gauss = mix.get("gaussian_noise", 0.0)
    shot = tf.sqrt(tf.maximum(lr, 0.0) / 0.5)  # Poisson: variance grows with the intensity
    scale = tf.where(kind < gauss, 1.0,
                     tf.where(kind < gauss + mix.get("poisson_noise", 0.0), shot, 0.0))
    lr = tf.clip_by_value(lr + sigma * scale * noise, 0.0, 1.0)
    lr = tf.round(lr * 255.0) / 255.0
    if mix.get("jpeg", 0.0) > 0:
        lo, hi = mix["jpeg_quality"]
        quality = tf.cast(uniform((n,), seeds[6], lo, hi + 1), tf.int32)
        use = uniform((n,), seeds[7]) < mix["jpeg"]

        def one(args):
            image, q, on = args
            return tf.cond(on, lambda: tf.image.adjust_jpeg_quality(image, q), lambda: image)

        lr = tf.map_fn(one, (lr, quality, use), fn_output_signature=tf.float32)
        lr = tf.ensure_shape(lr, [None, None, None, hr.shape[-1]])
    return lr


def named(name):
    """``f(hr (1, H, W, C), (h, w)) -> numpy`` for a kernel of :data:`KERNELS`, ``blur`` (sigma 1
    HR pixel, then bicubic) or ``jpegQ`` (bicubic, then Pillow's JPEG at quality Q)."""
    def resize(hr, size, kernel=name, sigma=None):
        import tensorflow as tf

        x = tf.constant(hr, tf.float32)
        x = x if sigma is None else _blur(x, tf.constant(sigma))
        return tf.clip_by_value(_resize(x, size, kernel), 0.0, 1.0).numpy()

    if name in KERNELS:
        return resize
    if name == "blur":
        return lambda hr, size: resize(hr, size, "bicubic", sigma=1.0)
    if name.startswith("jpeg") and name[4:].isdigit() and 1 <= int(name[4:]) <= 100:
        quality = int(name[4:])

        def jpeg(hr, size):
            import io

            import numpy as np
            from PIL import Image

            out = []
            for image in resize(hr, size, "bicubic"):  # = degrade, then saved as a JPEG
                pixels = np.round(image * 255).astype(np.uint8)
                buffer = io.BytesIO()
                Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(
                    buffer, "JPEG", quality=quality)
                out.append((np.asarray(Image.open(buffer), np.float32) / 255).reshape(image.shape))
            return np.stack(out)
        return jpeg
    raise ValueError(f"unknown degradation {name!r}; choose from {', '.join(NAMED)} "
                     "(jpegQ for any quality Q from 1 to 100)")
