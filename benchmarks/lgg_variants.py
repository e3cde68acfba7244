"""The LGG probes' recipes: each variant of ``lgg_recipe_probe.py`` as what it changes from
the paper protocol (``BASE``), the U-Net it trains (``MODEL``), its augmentation (``AUGMENT``)
and the small-component sizes scored at the best epoch (``MIN_COMPONENT``). One table, read by
``lgg_recipe_probe.py`` (``lgg_cv.py --variant`` names one); a new variant is a new key here."""

# the strong LGG recipe's settings until 2026-12-07 (variant bce_dice_per_image, peak rate
# 1e-3): the probes' variants change one key of it; since then the recipe fine-tunes its last
# 3 epochs on BCE + Lovász (lovasz_ft3)
STRONG = {"loss": "bce_dice", "lr": 1e-3, "cosine": True, "tumour_share": 0.5,
          "normalise": "per_image"}
RECIPE = "lovasz_ft3"  # params.yaml's recipes.strong.lgg (a test checks)
VARIANTS = {  # name: what differs from the paper protocol (base 16, MSE, Adam 3e-4 constant)
    "paper": {},
    "mse_cosine_sampled": {"lr": 1e-3, "cosine": True, "tumour_share": 0.5},
    "bce_dice": {"loss": "bce_dice", "lr": 1e-3, "cosine": True, "tumour_share": 0.5},
    "bce_dice_unsampled": {"loss": "bce_dice", "lr": 1e-3, "cosine": True},
    "dice": {"loss": "dice", "lr": 1e-3, "cosine": True, "tumour_share": 0.5},
    "bce_dice_w32": {"loss": "bce_dice", "lr": 1e-3, "cosine": True, "tumour_share": 0.5,
                     "base_filters": 32},
    "bce_dice_const": {"loss": "bce_dice", "lr": 3e-4, "tumour_share": 0.5},
    "bce_dice_per_image": {**STRONG},  # a copy: no entry aliases another
    "bce_dice_w24": {"loss": "bce_dice", "lr": 1e-3, "cosine": True, "tumour_share": 0.5,
                     "base_filters": 24},
    "per_volume": {"loss": "bce_dice", "lr": 1e-3, "cosine": True, "tumour_share": 0.5,
                   "normalise": "per_volume"},
    "per_image_elastic": {**STRONG, "augment": {"elastic": True, "elastic_alpha": 17.0,
                                                "elastic_sigma": 4.0}},
    "per_image_w24": {**STRONG, "base_filters": 24},
    # validation scores and keeps the moving average of the weights (Adam's use_ema)
    "per_image_ema": {**STRONG, "ema": 0.99},
    # each training slice's normalised channels scaled by U(0.7, 1.3) and shifted by
    # U(-0.3, 0.3): what a large tumour does to the slice's own statistics
    "per_image_intensity": {**STRONG, "intensity": 0.3},
    # the slices above and below as 6 more channels (segstudy.data.context)
    "per_image_ctx1": {**STRONG, "context": 1},
    # with probability 0.5 a training slice loses one random channel (set to 0, the tissue
    # mean): a model that cannot lean on FLAIR alone (TCGA_DU_7018's tumour is dark there)
    "per_image_chdrop": {**STRONG, "channel_drop": 0.5},
    # the strong recipe with 8 slices a batch: twice the updates for the same slices
    "per_image_b8": {**STRONG, "batch": 8},
    "per_image_batch_dice": {**STRONG, "loss": "bce_batch_dice"},
    "per_image_bce_iou": {**STRONG, "loss": "bce_soft_iou"},
    # learning curve: half the training patients (one fixed draw), twice the epochs, so the
    # same number of updates: what are more patients worth? (run with --epochs 16)
    "per_image_half_patients": {**STRONG, "train_patients": 0.5},
    # tumour slices three quarters of each epoch (each tumour slice 6 times, not 2): an
    # epoch twice as long, so run with --epochs 4 for the strong recipe's updates
    "per_image_share75": {**STRONG, "tumour_share": 0.75},
    # no tumour-aware sampling (each slice once, 35 % with tumour): an epoch 0.74 times as
    # long, so run with --epochs 11 for the strong recipe's updates
    "per_image_unsampled": {"loss": "bce_dice", "lr": 1e-3, "cosine": True,
                            "normalise": "per_image"},
    # BCE + Tversky (α 0.3 on false, β 0.7 on missed pixels) instead of BCE + soft Dice
    "per_image_tversky": {**STRONG, "loss": "bce_tversky"},
    # the strong recipe with twice or half its peak learning rate (warm-up epoch, cosine to 0)
    "per_image_lr2e3": {**STRONG, "lr": 2e-3},
    "per_image_lr5e4": {**STRONG, "lr": 5e-4},
    # the recipe (5e-4) with one more pooling level: a 5² bridge at 160², twice the field of
    # view, for the large sections it under-draws (docs/2026-12-06-map-smoothing.md)
    "lr5e4_depth5": {**STRONG, "lr": 5e-4, "model": {"depth": 5}},
    # the recipe (5e-4) with BCE + the Lovász IoU loss on tumour slices instead of BCE + soft
    # Dice on every slice: aimed at the IoU over tumour slices, the bar it misses
    "lr5e4_lovasz": {**STRONG, "lr": 5e-4, "loss": "bce_lovasz"},
    # the recipe, its last 3 of 8 epochs trained on BCE + Lovász instead (Berman et al.
    # fine-tune with it after a cross-entropy start; from scratch it started slowly)
    "lovasz_ft3": {**STRONG, "finetune": {"loss": "bce_lovasz", "epochs": 3}},
    # ... its last 5 of 8 epochs (from epoch 4, just past the peak of the cosine schedule)
    "lovasz_ft5": {**STRONG, "finetune": {"loss": "bce_lovasz", "epochs": 5}},
}
BASE = {"loss": "mse", "lr": 3e-4, "cosine": False, "tumour_share": None, "base_filters": 16,
        "batch": 16, "normalise": None,  # normalise None = the prepared folder's norm.json
        "augment": {},  # what differs from AUGMENT
        "ema": None,    # momentum of the weights' moving average; None = none
        "intensity": None,  # half-width of the per-channel scale/shift jitter; None = none
        "context": 0,  # neighbouring slices a side as extra channels
        "channel_drop": None,  # probability that a training slice loses one channel
        "train_patients": None,  # share of the training patients kept (None = all)
        "model": {},  # what differs from MODEL
        "finetune": None}  # {"loss": name, "epochs": k}: the last k epochs on that loss
MODEL = {"depth": 4, "convs_per_block": 2, "batchnorm": True, "head": "conv_bn_lrelu",
         "dropout": 0.0, "leaky_alpha": 0.01, "output_activation": "sigmoid"}
AUGMENT = {"flip": True, "rot90": False, "elastic": False, "affine": True,
           "affine_degrees": 10.0, "affine_scale": 0.05}
MIN_COMPONENT = (0, 10, 25, 50, 100)  # pixels at 128²; removed per slice
